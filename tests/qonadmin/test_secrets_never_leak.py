"""A project's secret key never leaves its encrypted column in readable form: not into a
database dump, a page, an HTMX fragment, a log line, an error report or a repr."""

import base64
import contextlib
import copy
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
import requests
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.core.signals import got_request_exception
from django.db import DatabaseError, connection
from django.http import HttpRequest
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.views.debug import ExceptionReporter

from demo.management.commands.seed_demo import PROJECT_KEYS
from integrations.clients import client_for_key, client_for_project
from integrations.filters import STATUS_CHOICES
from integrations.models import Integration
from integrations.qonversion import QonversionClient, QonversionError
from qonadmin.redaction import RedactSecretsFilter
from sandbox.control_client import SandboxControl
from teams.models import Project, Role, Team, mask_key
from tests.conftest import HTMX, SANDBOX_KEY, login

DEMO_KEYS = tuple(PROJECT_KEYS.values())
REVOKED_KEY = "test_sk_revoked_acme_logging_key"
CLEANSED = "********************"  # Django's stand-in for a hidden value


def needles(key: str) -> list[str]:
    """The key, its base64 form, and every 10-character run of the part after its prefix:
    a leak of most of a key is a leak. (The masked hint shows only the last four.)"""
    body = key.removeprefix("test_").removeprefix("sk_")
    runs = [body[i : i + 10] for i in range(len(body) - 9)]
    return [key, base64.b64encode(key.encode()).decode().rstrip("="), *runs]


def assert_no_key(text: str, keys: tuple[str, ...] = DEMO_KEYS, where: str = "") -> None:
    for key in keys:
        for needle in needles(key):
            assert needle not in text, f"{where}: contains {needle!r}"


# ---- database dumps ----------------------------------------------------------------------


@pytest.fixture
def seeded(settings, sandbox: SandboxControl) -> dict[str, Project]:
    settings.QONADMIN_DEMO = True
    call_command("seed_demo", stdout=io.StringIO())
    return {p.name: p for p in Project.objects.select_related("team")}


def assert_dump_is_complete_but_keyless(dump: str, seeded: dict[str, Project], where: str) -> None:
    # Positive controls: the dump really holds the projects and their sealed keys.
    for project in seeded.values():
        assert project.name in dump, f"{where}: {project.name} missing, the dump is not a dump"
        assert project.secret_key_encrypted in dump, f"{where}: sealed key of {project.name} missing"
    assert "v1:t2:" in dump
    assert_no_key(dump, where=where)


@pytest.mark.django_db(transaction=True)
def test_it_keeps_keys_out_of_dumpdata(seeded: dict[str, Project]):
    out = io.StringIO()
    call_command("dumpdata", "--indent", "0", stdout=out)
    dump = out.getvalue()

    assert_dump_is_complete_but_keyless(dump, seeded, "dumpdata")
    projects = [row["fields"] for row in json.loads(dump) if row["model"] == "teams.project"]
    assert {row["key_hint"] for row in projects} == {"test_sk_…_key"}
    assert all(row["secret_key_encrypted"].startswith("v1:t2:") for row in projects)


@pytest.mark.django_db(transaction=True)
def test_it_keeps_keys_out_of_the_sqlite_file(seeded: dict[str, Project]):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite file exists only on SQLite; PostgreSQL is checked with pg_dump")
    with connection.cursor() as cursor:
        dump = "\n".join(cursor.connection.iterdump())
    assert_dump_is_complete_but_keyless(dump, seeded, "iterdump")

    # The raw bytes of the database and its write-ahead log, free pages included.
    name = Path(connection.settings_dict["NAME"])
    files = [path for path in (name, Path(f"{name}-wal"), Path(f"{name}-journal")) if path.exists()]
    raw = b"".join(path.read_bytes() for path in files)
    assert b"Acme Sandbox" in raw and b"v1:t2:" in raw  # the data is in these files
    for key in DEMO_KEYS:
        for needle in needles(key):
            assert needle.encode() not in raw, f"{needle!r} in {files}"
            assert needle.encode("utf-16-le") not in raw


@pytest.mark.django_db(transaction=True)
def test_it_keeps_keys_out_of_pg_dump(seeded: dict[str, Project]):
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump applies to PostgreSQL only; SQLite is checked byte by byte")
    db = connection.settings_dict
    pg_dump = shutil.which("pg_dump")
    assert pg_dump is not None, "pg_dump is needed to check what a PostgreSQL backup contains"
    command = [pg_dump, "--data-only", "--no-owner", "--dbname", db["NAME"], "--username", db["USER"] or "postgres"]
    command += ["--host", db["HOST"] or "127.0.0.1", "--port", str(db["PORT"] or 5432)]
    env = {**os.environ, "PGPASSWORD": db["PASSWORD"] or ""}

    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)

    assert run.returncode == 0, run.stderr
    assert "COPY public.integrations_project" in run.stdout
    assert_dump_is_complete_but_keyless(run.stdout, seeded, "pg_dump")


# ---- pages and fragments -----------------------------------------------------------------


def page(client: Client, url: str, *, method: str = "get", htmx: bool = False, status: int = 200) -> str:
    response = getattr(client, method)(url, **(HTMX if htmx else {}))
    assert response.status_code == status, f"{method.upper()} {url}: {response.status_code}"
    if response.streaming:  # the audit log as CSV
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.django_db
def test_it_never_renders_a_key_into_a_page_or_fragment(seeded: dict[str, Project]):
    client = login(User.objects.get(username="demo"))
    team = Team.objects.get(slug="acme")
    shown: dict[str, str] = {}
    for name in ("team_detail", "team_members", "team_audit", "team_audit_csv", "project_new", "team_delete"):
        shown[name] = page(client, reverse(name, kwargs={"team_slug": team.slug}))
    shown["home"] = client.get("/", follow=True).content.decode()
    for project in (p for p in seeded.values() if p.team_id == team.pk):
        pid = {"project_id": project.pk}
        project_pages = {"project": page(client, reverse("project_detail", kwargs=pid))}
        for status in STATUS_CHOICES:
            url = f"{reverse('project_detail', kwargs=pid)}?status={status}"
            project_pages[f"project?status={status}"] = page(client, url)
            shown[f"{project.name} list fragment {status}"] = page(client, url, htmx=True)
        project_pages["settings"] = page(client, reverse("project_settings", kwargs=pid))
        for label, html in project_pages.items():
            assert project.key_hint in html, f"{project.name} {label}: the masked key is shown"
            shown[f"{project.name} {label}"] = html
        shown[f"{project.name} create form fragment"] = page(
            client, reverse("integration_create", kwargs=pid), htmx=True
        )
        shown[f"{project.name} create form page"] = page(client, reverse("integration_create", kwargs=pid))
        shown[f"{project.name} refresh"] = page(
            client, reverse("project_refresh", kwargs=pid), method="post", htmx=True
        )
        for integration in Integration.objects.filter(project=project):
            ids = {**pid, "integration_id": integration.pk}
            shown[f"{integration} details fragment"] = page(
                client, reverse("integration_detail", kwargs=ids), htmx=True
            )
            shown[f"{integration} details page"] = page(client, reverse("integration_detail", kwargs=ids))
            shown[f"{integration} delete confirm"] = page(client, reverse("integration_delete", kwargs=ids))

    assert len(shown) > 40
    assert "Legacy webhook" in "".join(shown.values())  # the pages show the seeded data
    for where, html in shown.items():
        assert_no_key(html, where=where)


@pytest.mark.django_db
def test_it_never_echoes_a_key_typed_into_a_form(seeded: dict[str, Project]):
    client = login(User.objects.get(username="demo"))
    project = seeded["Acme iOS"]
    typed = "test_sk_revoked_typed_into_a_form"
    new = page(client, reverse("project_new", kwargs={"team_slug": "acme"}))
    refused = client.post(reverse("project_new", kwargs={"team_slug": "acme"}), {"name": "Typed", "secret_key": typed})
    replaced = client.post(
        reverse("project_key", kwargs={"project_id": project.pk}), {"secret_key": typed}, follow=True
    )

    assert 'type="password"' in new
    assert "rejected this key" in refused.content.decode()  # the refusal is shown…
    assert "rejected this key" in replaced.content.decode()
    for response in (refused, replaced):
        assert_no_key(response.content.decode(), keys=(typed, *DEMO_KEYS))  # …without the key


# ---- logs --------------------------------------------------------------------------------


def console_handler() -> logging.Handler:
    """The handler settings.LOGGING configures, with its redaction filter."""
    handlers = [h for h in logging.getLogger().handlers if any(isinstance(f, RedactSecretsFilter) for f in h.filters)]
    assert len(handlers) == 1, "settings.LOGGING attaches RedactSecretsFilter to the console handler"
    return handlers[0]


def through_console(record: logging.LogRecord, handler: logging.Handler | None = None) -> str:
    """The line the configured console handler would write for this record."""
    handler, record = handler or console_handler(), copy.copy(record)
    assert handler.filter(record)
    return handler.format(record)


@pytest.fixture
def revoked_project(project: Project) -> Project:
    revoked = Project(team=project.team, name="Revoked")
    revoked.set_secret_key(REVOKED_KEY)
    revoked.save()
    return revoked


@pytest.mark.django_db
def test_it_logs_no_key_while_creating_refreshing_and_failing(
    project: Project, revoked_project: Project, owner_client: Client, sandbox: SandboxControl, caplog, monkeypatch
):
    console = console_handler()
    # Take the console handler off the root logger while capturing: its filter rewrites
    # records in place, and what is checked here is what our code and libraries log.
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [h for h in root.handlers if h is not console])
    for name in (None, "integrations", "django", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    create_url = reverse("integration_create", kwargs={"project_id": project.pk})

    def form() -> dict[str, str]:
        return {"title": "Amplitude", "provider": "amplitude", "platform": "iOS", "idempotency_key": str(uuid.uuid4())}

    with CaptureQueriesContext(connection):  # SQL is logged at DEBUG, with its parameters
        assert owner_client.post(create_url, form(), **HTMX).status_code == 200
        sandbox.add_fault(method="POST", path_prefix="/v4/integrations", status=503, times=3)
        failed = owner_client.post(create_url, form(), **HTMX)
        refreshed = owner_client.post(reverse("project_refresh", kwargs={"project_id": project.pk}), **HTMX)
        revoked = owner_client.post(reverse("project_refresh", kwargs={"project_id": revoked_project.pk}), **HTMX)
        revoked_form = owner_client.get(reverse("integration_create", kwargs={"project_id": revoked_project.pk}))

    assert "Qonversion had an internal error (503)" in failed.content.decode()
    assert refreshed.status_code == revoked.status_code == revoked_form.status_code == 200
    messages = [r.getMessage() for r in caplog.records]
    # Positive controls: every step was logged, by us and by the libraries underneath.
    assert any("-> 201" in m for m in messages)
    assert any("-> 503" in m for m in messages)
    assert any("-> 401" in m for m in messages)
    assert any("failed upstream" in m and "503" in m for m in messages)
    assert any("failed" in m and "401" in m for m in messages)
    assert any(r.name.startswith("urllib3") for r in caplog.records)
    assert any(r.name == "django.db.backends" and "INSERT INTO" in r.getMessage() for r in caplog.records)
    keys = (SANDBOX_KEY, REVOKED_KEY)
    raw = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in caplog.records:
        assert_no_key(record.getMessage(), keys=keys, where=f"{record.name} message")
        assert_no_key(raw.format(copy.copy(record)), keys=keys, where=f"{record.name} formatted")
        assert_no_key(through_console(record, console), keys=keys, where=f"{record.name} via console handler")
    assert_no_key(caplog.text, keys=keys)


def test_it_redacts_keys_in_messages_arguments_and_tracebacks():
    console = console_handler()
    assert isinstance(console, logging.StreamHandler)
    stream = io.StringIO()
    previous = console.setStream(stream)
    logger = logging.getLogger("integrations.test_leaks")
    try:
        logger.warning("Authorization: Bearer %s", SANDBOX_KEY)
        logger.warning("key=%(key)s project=%(project)s", {"key": "sk_live_production_key_1234", "project": 7})
        logger.warning(f"interpolated too: {REVOKED_KEY}")
        try:
            try:
                raise KeyError(SANDBOX_KEY)
            except KeyError as inner:
                raise RuntimeError(f"upstream refused Bearer {REVOKED_KEY}") from inner
        except RuntimeError:
            logger.exception("refresh failed")
    finally:
        console.setStream(previous)
    output = stream.getvalue()

    assert output.count("[redacted]") >= 5
    assert "Authorization: Bearer test_sk_[redacted]" in output
    assert "key=sk_[redacted] project=7" in output
    assert "RuntimeError: upstream refused Bearer test_sk_[redacted]" in output
    assert "KeyError: 'test_sk_[redacted]'" in output  # the chained cause too
    assert "Traceback (most recent call last)" in output
    assert_no_key(output, keys=(SANDBOX_KEY, REVOKED_KEY, "sk_live_production_key_1234"))


def test_it_redacts_a_record_carrying_exc_info_directly():
    try:
        raise ValueError(f"bad key {SANDBOX_KEY}")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("integrations", logging.ERROR, __file__, 1, "failed for %s", (SANDBOX_KEY,), exc_info)
    unfiltered = logging.Formatter().format(copy.copy(record))
    assert SANDBOX_KEY in unfiltered  # the record does carry the key, twice

    assert RedactSecretsFilter().filter(record)
    formatted = logging.Formatter().format(record)

    assert record.getMessage() == "failed for test_sk_[redacted]"
    assert "ValueError: bad key test_sk_[redacted]" in formatted
    assert_no_key(formatted, keys=(SANDBOX_KEY,))
    assert_no_key(through_console(record), keys=(SANDBOX_KEY,))


def test_it_leaves_masked_hints_and_ordinary_words_alone():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "key %s, task_sk_size, risk_level", ("test_sk_…abcd",), None
    )
    RedactSecretsFilter().filter(record)
    assert record.getMessage() == "key test_sk_…abcd, task_sk_size, risk_level"


# ---- error reports -----------------------------------------------------------------------

Report = tuple[str, str]  # Django's technical 500 report: (text, HTML)
HIDDEN_VARIABLE = re.compile(r"<td>(\w+)</td>\s*<td class=\"code\"><pre>&#x27;\*{20}&#x27;</pre></td>")


def hidden_locals(html: str) -> set[str]:
    """Local variables the report's traceback shows as stars (the settings table, which
    is cleansed anyway, comes after the traceback and is left out)."""
    traceback_part = html.split('id="requestinfo"', 1)[0]
    return set(HIDDEN_VARIABLE.findall(traceback_part))


def assert_report_is_keyless(
    report: Report,
    *,
    keys: tuple[str, ...],
    where: str,
    shows: list[str],
    hides: set[str] | frozenset[str] = frozenset(),
) -> None:
    text, html = report
    assert "Traceback" in text and "Local vars" in html  # it is a full report, with locals
    for expected in shows:
        assert expected in text, f"{where}: {expected!r} missing from the report"
    assert hides <= hidden_locals(html), f"{where}: {hides - hidden_locals(html)} not hidden"
    assert_no_key(text, keys=keys, where=f"{where} (text)")
    assert_no_key(html, keys=keys, where=f"{where} (HTML)")


def reporter_output(reporter: ExceptionReporter) -> Report:
    return reporter.get_traceback_text(), reporter.get_traceback_html()


def reports_for(client: Client, url: str, data: dict[str, str] | None = None) -> list[Report]:
    """The report for the exception a POST raised: built while the exception is being
    handled (when the admin email handler builds it, with Django's own frames still
    live), and again afterwards from the test client's exc_info."""
    built: list[Report] = []

    def build(sender: object, request: HttpRequest, **kwargs: object) -> None:
        built.append(reporter_output(ExceptionReporter(request, *sys.exc_info())))

    client.raise_request_exception = False
    got_request_exception.connect(build, dispatch_uid="test_secrets_never_leak")
    try:
        response = client.post(url, data or {}, **HTMX)
    finally:
        got_request_exception.disconnect(dispatch_uid="test_secrets_never_leak")
    assert response.status_code == 500
    assert response.exc_info is not None and len(built) == 1
    return [*built, reporter_output(ExceptionReporter(response.wsgi_request, *response.exc_info))]


REFRESH_FAILURES = {
    # how: (what the report must show, which locals it must hide)
    "the listing raises": (["RuntimeError", "listing exploded", "project_sync"], set()),
    "the transport breaks inside requests": (["adapter exploded", "_send_once"], {"all_headers", "headers"}),
    "the client cannot be built": (["AttributeError", "client_for_project", "client_for_key"], {"secret_key"}),
}


@pytest.mark.django_db
@pytest.mark.parametrize("how", list(REFRESH_FAILURES))
def test_it_keeps_keys_out_of_error_reports(project: Project, owner_client: Client, settings, how: str):
    settings.ADMINS = ["ops@example.com"]
    trouble: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    if how == "the listing raises":
        trouble = mock.patch.object(
            QonversionClient, "list_integrations", autospec=True, side_effect=RuntimeError("listing exploded")
        )
    elif how == "the transport breaks inside requests":
        # Not a requests exception, so it escapes the client with requests' frames
        # (which hold the Authorization header) on the traceback.
        trouble = mock.patch.object(requests.adapters.HTTPAdapter, "send", side_effect=RuntimeError("adapter exploded"))
    else:
        settings.QONVERSION_API_BASE = None  # QonversionClient.__init__ fails, the key in hand
    shows, hides = REFRESH_FAILURES[how]

    with trouble:
        reports = reports_for(owner_client, reverse("project_refresh", kwargs={"project_id": project.pk}))

    for report in reports:
        assert_report_is_keyless(report, keys=(SANDBOX_KEY,), where=how, shows=shows, hides=hides)
    # What reaches the admins by email is the same report.
    assert len(mail.outbox) == 1, "the 500 was emailed to ADMINS"
    email = mail.outbox[0]
    assert shows[0] in email.body
    assert_no_key(email.subject + email.body, keys=(SANDBOX_KEY,), where=f"{how} email")


@pytest.mark.django_db
def test_django_admin_takes_no_key_and_writes_no_project(project: Project):
    """Keys are set only through the dashboard, where they are checked and audited."""
    client = login(User.objects.create_superuser("root", "root@example.com", "password"))
    typed = "test_sk_typed_into_the_admin_form"
    form = {"team": str(project.team_id), "name": "Typed in admin", "secret_key": typed, "_save": "Save"}
    assert client.post(reverse("admin:teams_project_add"), form).status_code == 403
    change = reverse("admin:teams_project_change", args=[project.pk])
    assert client.post(change, form).status_code == 403
    page = client.get(change).content.decode()
    assert "secret_key" not in page and project.key_hint in page
    assert "Read-only here" in client.get(reverse("admin:teams_project_changelist")).content.decode()
    assert list(Project.objects.values_list("name", flat=True)) == ["Acme iOS"]
    assert_no_key(page, keys=(SANDBOX_KEY, typed))


@pytest.mark.django_db
def test_it_keeps_a_key_posted_to_a_new_project_out_of_error_reports(team: Team, make_member, sandbox):
    client = login(make_member("adam", Role.ADMIN))
    typed = "test_sk_typed_into_the_project_form"
    url = reverse("project_new", kwargs={"team_slug": team.slug})
    with mock.patch.object(Project, "save", autospec=True, side_effect=DatabaseError("disk I/O error")):
        reports = reports_for(client, url, {"name": "Typed", "secret_key": typed})

    for report in reports:
        shows = ["disk I/O error", "project_create", f"secret_key = '{CLEANSED}'"]
        assert_report_is_keyless(report, keys=(typed,), where="project_new", shows=shows, hides={"secret_key"})


@pytest.mark.django_db
def test_it_turns_a_key_http_cannot_carry_into_a_message_not_a_crash(team: Team, make_member, sandbox):
    """A zero-width space pasted with the key used to escape requests as a
    UnicodeEncodeError: a 500, whose repr (in Django's handler frame) quotes the header.
    The form now refuses it; the client still turns it into a message, not a crash."""
    client = login(make_member("adam", Role.ADMIN))
    typed = "test_sk_pasted\u200bwith_a_zero_width_space"
    client.raise_request_exception = False
    response = client.post(reverse("project_new", kwargs={"team_slug": team.slug}), {"name": "P", "secret_key": typed})

    html = response.content.decode()
    assert response.status_code == 200
    assert "The key contains characters a secret key cannot have" in html
    assert_no_key(html, keys=(typed,))
    assert not Project.objects.filter(name="P").exists()
    with pytest.raises(QonversionError, match="cannot be sent to Qonversion"):
        client_for_key(typed).get_meta()


def report_of(call: Callable[[], object]) -> Report:
    try:
        call()
    except Exception:
        return reporter_output(ExceptionReporter(None, *sys.exc_info()))
    raise AssertionError("expected the call to fail")


@pytest.mark.django_db
@pytest.mark.parametrize("function", ["__init__", "client_for_key", "set_secret_key"])
def test_it_hides_the_key_in_each_function_that_holds_it(function: str, settings):
    """Each decorated function on its own, with no decorated caller above it."""
    hides = {"secret_key"}
    if function == "__init__":
        report = report_of(lambda: QonversionClient(SANDBOX_KEY, base_url=None))  # type: ignore[arg-type]
    elif function == "client_for_key":
        settings.QONVERSION_API_BASE = None
        report = report_of(lambda: client_for_key(SANDBOX_KEY))
    else:
        hides |= {"plaintext"}  # in crypto.encrypt, below it
        with override_settings(QONADMIN_ENCRYPTION_KEYS="not-a-key-ring"):
            report = report_of(lambda: Project(name="P").set_secret_key(SANDBOX_KEY))
    assert_report_is_keyless(report, keys=(SANDBOX_KEY,), where=function, shows=[f"in {function}"], hides=hides)


# ---- reprs -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_keeps_keys_out_of_reprs(project: Project):
    client = client_for_project(project)
    for text in (repr(project), str(project), repr(client), str(client)):
        assert_no_key(text, keys=(SANDBOX_KEY,))
    assert repr(project) == "<Project: Acme iOS>"
    assert repr(client) == f"<ProjectClient project={project.pk}>"
    assert project.key_hint == mask_key(SANDBOX_KEY) == "test_sk_…_key"
