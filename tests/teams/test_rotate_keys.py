"""`rotate_encryption_keys`: every stored project key ends up under the first encryption key."""

import base64
import io
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from audit import services as audit
from audit.models import AuditEvent
from teams import crypto
from teams.crypto import DecryptionError
from teams.models import Project, Team

OLD_KEY = base64.b64encode(b"o" * 32).decode()
NEW_KEY = base64.b64encode(b"n" * 32).decode()
LOST_KEY = base64.b64encode(b"l" * 32).decode()
OLD_RING = f"old:{OLD_KEY}"
ROTATING_RING = f"new:{NEW_KEY},old:{OLD_KEY}"  # the new key first, the old one still listed
NEW_RING = f"new:{NEW_KEY}"  # after the old key was removed

KEYS = {
    "Acme iOS": "test_sk_acme_ios_rotation_key",
    "Acme Android": "sk_acme_android_rotation_key",
    "Acme Web": "test_sk_acme_web_rotation_key",
}
ENCRYPTION_KEYS = (OLD_KEY, NEW_KEY, LOST_KEY)


@pytest.fixture
def team(db: None) -> Team:
    return Team.objects.create(name="Acme", slug="acme")


def seal(team: Team, name: str, secret_key: str, ring: str = OLD_RING) -> Project:
    with override_settings(QONADMIN_ENCRYPTION_KEYS=ring):
        project = Project(team=team, name=name)
        project.set_secret_key(secret_key)
        project.save()
    return project


@pytest.fixture
def sealed(team: Team) -> list[Project]:
    """Three projects stored under the old key only."""
    return [seal(team, name, key) for name, key in KEYS.items()]


def rotate(*args: str, ring: str = ROTATING_RING) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with override_settings(QONADMIN_ENCRYPTION_KEYS=ring):
        call_command("rotate_encryption_keys", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def rotate_failing(*args: str, ring: str = ROTATING_RING) -> tuple[str, str, CommandError]:
    out, err = io.StringIO(), io.StringIO()
    with override_settings(QONADMIN_ENCRYPTION_KEYS=ring), pytest.raises(CommandError) as failure:
        call_command("rotate_encryption_keys", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), failure.value


def stored(project: Project) -> str:
    return Project.objects.values_list("secret_key_encrypted", flat=True).get(pk=project.pk)


def tamper(token: str) -> str:
    prefix, payload = token.rsplit(":", 1)
    middle = len(payload) // 2
    return f"{prefix}:{payload[:middle]}{'A' if payload[middle] != 'A' else 'B'}{payload[middle + 1 :]}"


def assert_no_key_material(*outputs: str) -> None:
    for output in outputs:
        for secret in (*KEYS.values(), *ENCRYPTION_KEYS):
            assert secret not in output
        for secret in KEYS.values():
            assert secret.split("_sk_" if secret.startswith("test_") else "sk_", 1)[1] not in output


def test_it_reencrypts_every_project_under_the_first_key(sealed: list[Project]):
    assert {crypto.key_id_of(stored(p)) for p in sealed} == {"old"}
    before = {p.pk: stored(p) for p in sealed}

    out, err = rotate()

    assert "Re-encrypted: 3, already current: 0, failed: 0." in out
    assert err == ""
    with override_settings(QONADMIN_ENCRYPTION_KEYS=ROTATING_RING):
        for project in sealed:
            project.refresh_from_db()
            assert crypto.key_id_of(project.secret_key_encrypted) == "new"
            assert project.secret_key_encrypted != before[project.pk]
            assert project.secret_key() == KEYS[project.name]
            assert f"project {project.pk} “{project.name}” (team Acme): old → new" in out
    events = AuditEvent.objects.filter(action="keys.rotated").order_by("project_id")
    assert [(e.project_id, e.outcome, e.actor, e.detail) for e in events] == [
        (p.pk, "success", None, {"from_key_id": "old", "to_key_id": "new"}) for p in sealed
    ]
    assert_no_key_material(out, err)


def test_it_does_nothing_when_run_again(sealed: list[Project]):
    rotate()
    after_first = {p.pk: stored(p) for p in sealed}
    events = AuditEvent.objects.count()

    out, _ = rotate("--verbosity", "2")

    assert "Re-encrypted: 0, already current: 3, failed: 0." in out
    assert {p.pk: stored(p) for p in sealed} == after_first
    assert AuditEvent.objects.count() == events
    assert out.count("already current  project") == 3


def test_it_leaves_every_project_readable_once_the_old_key_is_removed(sealed: list[Project]):
    # Without rotation, dropping the old key would lock every project out.
    with override_settings(QONADMIN_ENCRYPTION_KEYS=NEW_RING), pytest.raises(DecryptionError, match="'old'"):
        Project.objects.get(pk=sealed[0].pk).secret_key()
    rotate()
    with override_settings(QONADMIN_ENCRYPTION_KEYS=NEW_RING):
        assert {p.name: p.secret_key() for p in Project.objects.all()} == KEYS
        out, _ = rotate(ring=NEW_RING)
    assert "Re-encrypted: 0, already current: 3, failed: 0." in out


def test_it_reports_unreadable_rows_and_leaves_them_unchanged(team: Team, sealed: list[Project]):
    tampered = seal(team, "Tampered", "test_sk_tampered_rotation_key")
    Project.objects.filter(pk=tampered.pk).update(secret_key_encrypted=tamper(stored(tampered)))
    unknown = seal(team, "Lost key", "test_sk_lost_rotation_key", ring=f"lost:{LOST_KEY}")
    moved = seal(team, "Moved", "test_sk_moved_rotation_key")
    Project.objects.filter(pk=moved.pk).update(secret_key_encrypted=stored(sealed[0]))  # another row's value
    tampered_current = seal(team, "Tampered current", "test_sk_tampered_current_key", ring=ROTATING_RING)
    Project.objects.filter(pk=tampered_current.pk).update(secret_key_encrypted=tamper(stored(tampered_current)))
    plaintext = seal(team, "Legacy plaintext", "unused_placeholder")
    Project.objects.filter(pk=plaintext.pk).update(secret_key_encrypted="sk_legacy_plaintext_value")
    broken = [tampered, unknown, moved, tampered_current, plaintext]
    before = {p.pk: stored(p) for p in broken}

    out, err, failure = rotate_failing()

    assert "Re-encrypted: 3, already current: 0, failed: 5." in out
    assert failure.returncode == 1  # manage.py exits with this status
    assert "5 project key(s) cannot be decrypted and were left unchanged" in str(failure)
    assert f"project {tampered.pk} “Tampered” (team Acme): stored secret failed authentication" in err
    assert f"project {unknown.pk} “Lost key” (team Acme): no encryption key with id 'lost' is configured" in err
    assert f"project {moved.pk} “Moved” (team Acme): stored secret failed authentication" in err
    assert f"project {tampered_current.pk} “Tampered current” (team Acme): stored secret failed" in err
    assert f"project {plaintext.pk} “Legacy plaintext” (team Acme): stored secret is not in the v1" in err
    assert {p.pk: stored(p) for p in broken} == before
    assert "sk_legacy_plaintext_value" not in out + err + str(failure)
    assert "legacy_plaintext_value" not in out + err
    assert_no_key_material(out, err, str(failure))
    # The readable ones were still rotated.
    assert {crypto.key_id_of(stored(p)) for p in sealed} == {"new"}
    failures = AuditEvent.objects.filter(action="keys.rotated", outcome="failure")
    assert sorted(e.project_id for e in failures) == sorted(p.pk for p in broken)
    assert failures.get(project=unknown).detail["from_key_id"] == "lost"


def test_it_writes_nothing_on_a_dry_run(team: Team, sealed: list[Project]):
    current = seal(team, "Already new", "test_sk_already_new_key", ring=ROTATING_RING)
    before = {p.pk: stored(p) for p in [*sealed, current]}

    out, err = rotate("--dry-run")

    assert "Dry run: checking project secret keys under key 'new'" in out
    assert "Would re-encrypt: 3, already current: 1, failed: 0. Nothing was written." in out
    assert f"would re-encrypt project {sealed[0].pk} “Acme iOS” (team Acme): old → new" in out
    assert {p.pk: stored(p) for p in [*sealed, current]} == before
    assert not AuditEvent.objects.exists()
    assert err == ""


def test_it_fails_a_dry_run_that_finds_an_unreadable_row(team: Team, sealed: list[Project]):
    unknown = seal(team, "Lost key", "test_sk_lost_rotation_key", ring=f"lost:{LOST_KEY}")
    before = {p.pk: stored(p) for p in [*sealed, unknown]}

    out, err, _ = rotate_failing("--dry-run")

    assert "Would re-encrypt: 3, already current: 0, failed: 1. Nothing was written." in out
    assert f"project {unknown.pk} “Lost key” (team Acme): no encryption key with id 'lost'" in err
    assert {p.pk: stored(p) for p in [*sealed, unknown]} == before
    assert not AuditEvent.objects.exists()


def test_it_leaves_every_row_valid_when_interrupted(sealed: list[Project]):
    real_record = audit.record
    calls = 0

    def interrupt_on_second(**kwargs: object) -> AuditEvent:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt  # Ctrl-C after the second row was written, before its commit
        return real_record(**kwargs)  # type: ignore[arg-type]

    with mock.patch.object(audit, "record", interrupt_on_second), pytest.raises(KeyboardInterrupt):
        rotate()

    assert [crypto.key_id_of(stored(p)) for p in sealed] == ["new", "old", "old"]
    with override_settings(QONADMIN_ENCRYPTION_KEYS=ROTATING_RING):
        assert {p.name: p.secret_key() for p in Project.objects.all()} == KEYS
    out, _ = rotate()
    assert "Re-encrypted: 2, already current: 1, failed: 0." in out
    assert AuditEvent.objects.filter(action="keys.rotated").count() == 3


@pytest.mark.django_db(transaction=True)
def test_it_exits_non_zero_from_the_command_line(team: Team):
    """The real `manage.py` process, with the test suite's own key ring (t2 first, t1 after)."""
    ring = settings.QONADMIN_ENCRYPTION_KEYS
    old_only = ring.split(",", 1)[1]  # "t1:…"
    assert old_only.startswith("t1:")
    good = seal(team, "Good", "test_sk_good_cli_key", ring=old_only)
    bad = seal(team, "Bad", "test_sk_bad_cli_key", ring=old_only)
    Project.objects.filter(pk=bad.pk).update(secret_key_encrypted=tamper(stored(bad)))
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        url = f"sqlite:///{db['NAME']}"
    else:
        credentials = f"{db['USER']}:{db['PASSWORD'] or ''}"
        url = f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "qonadmin.test_settings"}
    manage = Path(settings.BASE_DIR) / "manage.py"

    run = subprocess.run(
        [sys.executable, str(manage), "rotate_encryption_keys"], env=env, capture_output=True, text=True, timeout=60
    )

    assert run.returncode == 1, run.stderr
    assert "Re-encrypted: 1, already current: 0, failed: 1." in run.stdout
    assert f"project {bad.pk} “Bad” (team Acme): stored secret failed authentication" in run.stderr
    assert "Traceback" not in run.stderr  # a message for the operator, not a crash
    assert crypto.key_id_of(stored(good)) == "t2"
    assert crypto.key_id_of(stored(bad)) == "t1"
    for secret in ("test_sk_good_cli_key", "test_sk_bad_cli_key", *(part.split(":")[1] for part in ring.split(","))):
        assert secret not in run.stdout + run.stderr
