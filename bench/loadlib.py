"""Building blocks of `bench.load_under_faults`: a throwaway qonadmin stack and simulated users.

`Stack` starts the sandbox, prepares a database in a temporary directory and serves the
dashboard with gunicorn exactly as `scripts/run-demo` does; `stop()` ends every process it
started and removes the directory. `LoadUser` signs in through the real login form and
clicks through the pages the way a browser with HTMX does. Standard library plus
`requests`; no Django in this process.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
JSON_MARKER = "LOADJSON "
# Variables of the caller's shell that would change what the stack does.
_SCRUBBED_PREFIXES = ("DJANGO_", "QONADMIN_", "QONVERSION_", "DATABASE_", "REDIS_URL")

# The production settings with one change: collected static files go to the temporary
# directory instead of the checkout's staticfiles/ (whitenoise's manifest storage needs them).
SETTINGS_SHIM = '''"""qonadmin.settings, with static files collected into this temporary directory."""

from pathlib import Path

from qonadmin.settings import *  # noqa: F403

STATIC_ROOT = Path(__file__).resolve().parent / "static"
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


# ---- the stack -----------------------------------------------------------------------


class StackError(RuntimeError):
    pass


@dataclass
class Stack:
    """Sandbox + database + gunicorn in a temporary directory; `stop()` undoes all of it."""

    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="qonadmin-load-")))
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    sandbox_url: str = ""
    app_url: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        (self.workdir / "load_settings.py").write_text(SETTINGS_SHIM)
        env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
        env.update(
            {
                "PYTHONPATH": os.pathsep.join([str(self.workdir), str(ROOT)]),
                "DJANGO_SETTINGS_MODULE": "load_settings",
                "DATABASE_URL": f"sqlite:///{self.workdir / 'db.sqlite3'}",
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                "QONADMIN_ENCRYPTION_KEYS": f"load1:{base64.urlsafe_b64encode(os.urandom(32)).decode()}",
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
                "QONADMIN_HTTPS": "false",
                "QONADMIN_DEMO": "true",
                "QONADMIN_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
                "QONADMIN_LOG_LEVEL": "WARNING",
            }
        )
        self.env = env

    def log_path(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def _spawn(self, name: str, argv: list[str], *, stdout: Path, stderr: Path) -> subprocess.Popen[bytes]:
        with stdout.open("ab") as out, stderr.open("ab") as err:
            # Its own session, so a Ctrl-C in the terminal reaches only this script, which
            # then stops every process group it started (workers included).
            process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                argv, cwd=ROOT, env=self.env, stdout=out, stderr=err, start_new_session=True
            )
        self.processes[name] = process
        return process

    def _wait_until_up(self, name: str, url: str, seconds: float = 30.0) -> None:
        process = self.processes[name]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise StackError(f"{name} exited with {process.returncode}:\n{self.tail(name)}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise StackError(f"{name} did not answer {url} within {seconds:.0f} s:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 20) -> str:
        path = self.log_path(name)
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def start_sandbox(self, *, seed: int = 42) -> None:
        port = free_port()
        argv = [PYTHON, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(port), "--seed", str(seed)]
        log = self.log_path("sandbox")
        self._spawn("sandbox", argv, stdout=log, stderr=log)
        self.sandbox_url = f"http://127.0.0.1:{port}"
        self.env["QONVERSION_API_BASE"] = f"{self.sandbox_url}/v4"
        self._wait_until_up("sandbox", f"{self.sandbox_url}/_sandbox/faults")

    def manage(self, *args: str, timeout: float = 180.0) -> str:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"manage.py {args[0]} failed ({result.returncode}):\n{result.stderr[-3000:]}")
        return result.stdout

    def shell_json(self, code: str) -> Any:
        """Run Python in `manage.py shell` and return what it printed after JSON_MARKER."""
        output = self.manage("shell", "--no-imports", "-c", code)
        for line in output.splitlines():
            if line.startswith(JSON_MARKER):
                return json.loads(line[len(JSON_MARKER) :])
        raise StackError(f"manage.py shell printed no result:\n{output[-2000:]}")

    def start_gunicorn(self) -> None:
        port = free_port()
        # The command line of scripts/run-demo (access log on stdout, errors on stderr).
        argv = [
            GUNICORN,
            "qonadmin.wsgi:application",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "-",
            "--error-logfile",
            "-",
            "--log-level",
            "warning",
        ]
        self._spawn("gunicorn", argv, stdout=self.log_path("gunicorn-access"), stderr=self.log_path("gunicorn"))
        self.app_url = f"http://127.0.0.1:{port}"
        self._wait_until_up("gunicorn", f"{self.app_url}/healthz")

    def stop(self, *, keep_logs_in: Path | None = None) -> None:
        for name, process in reversed(list(self.processes.items())):
            _stop_group(name, process)
        self.processes.clear()
        if keep_logs_in is not None:
            keep_logs_in.mkdir(parents=True, exist_ok=True)
            for log in self.workdir.glob("*.log"):
                shutil.copy(log, keep_logs_in / log.name)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _stop_group(name: str, process: subprocess.Popen[bytes]) -> None:
    """SIGINT (gunicorn: quick shutdown; sandbox: clean stop), then SIGKILL after 10 s."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    if process.poll() is None:
        print(f"{name} did not stop within 10 s of SIGINT; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


# ---- sandbox control -----------------------------------------------------------------


class SandboxControlClient:
    """The few calls of the sandbox's control API (/_sandbox) this benchmark makes."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.http = requests.Session()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, f"{self.root}{path}", json=body, timeout=10)
        if response.status_code >= 400:
            raise StackError(f"{method} {path} -> {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else None

    def add_fault(self, **fault: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("POST", "/_sandbox/faults", fault)["fault"]
        return answer

    def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/_sandbox/faults")["data"]
        return result

    def clear_faults(self) -> None:
        self._call("DELETE", "/_sandbox/faults")

    def requests_log(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/_sandbox/requests")
        return result

    def clear_requests_log(self) -> None:
        self._call("DELETE", "/_sandbox/requests")

    def list_integrations(self, key: str) -> list[dict[str, Any]]:
        """GET /v4/integrations as the project itself (call only with no faults queued)."""
        response = self.http.get(f"{self.root}/v4/integrations", headers={"Authorization": f"Bearer {key}"}, timeout=10)
        if response.status_code != 200:
            raise StackError(f"GET /v4/integrations -> {response.status_code}: {response.text[:300]}")
        data: list[dict[str, Any]] = response.json()["data"]
        return data


# ---- simulated users -----------------------------------------------------------------


@dataclass
class Record:
    """One request the load sent, as the user saw it."""

    phase: str
    kind: str
    user: str
    status: int  # 0: no answer (client timeout or connection error)
    latency_ms: float
    started: float  # seconds since the run started
    error: str = ""  # "timeout" / "connection" when status is 0
    outcome: str = ""  # what the page said (creates, refreshes)
    title: str = ""  # creates: the integration's title
    attempt: int = 1
    excerpt: str = ""  # the start of the body, for 5xx answers


CSRF_IN_PAGE = re.compile(r'"X-CSRFToken":\s*"([^"]+)"')
CSRF_IN_FORM = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
IDEMPOTENCY_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
PROVIDER_OPTION = re.compile(r'<option value="([a-z0-9_]+)"([^>]*)>')
DATA_STORES = re.compile(r'data-stores="([^"]*)"')
PLATFORMS = ("iOS", "Android", "Stripe")
RECONCILE_EVENT = "qonadmin:reconcile"  # HX-Trigger of an answer after which the list refreshes

# What the create form says, most specific first (templates and integrations/explain.py).
CREATE_OUTCOMES = (
    ("created", "flash-success"),
    ("maybe", "may or may not have gone through"),
    ("earlier-attempt", "already handled an earlier attempt"),
    ("error", "banner-error"),
    ("invalid", "field-error"),
)


# What the list says after a refresh: Qonversion paused for the project (circuit open),
# the last refresh failed (the last known list with a banner), or fresh.
REFRESH_OUTCOMES = (("upstream paused", "breaker-note"), ("stale banner", "Could not refresh from Qonversion"))


def refresh_outcome(html: str) -> str:
    for outcome, marker in REFRESH_OUTCOMES:
        if marker in html:
            return outcome
    return "fresh"


def create_outcome(html: str) -> str:
    for outcome, marker in CREATE_OUTCOMES:
        if marker in html:
            return outcome
    return "other"


def strip_tags(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


class SignInError(RuntimeError):
    pass


@dataclass
class Phase:
    name: str
    t0: float  # time.monotonic() of the run's start, for Record.started
    deadline: float  # no new action starts after this (time.monotonic())
    max_actions: int


@dataclass
class LoadUser:
    username: str
    password: str
    base_url: str
    team_slug: str
    project_ids: list[int]
    records: list[Record]
    run_tag: str
    seed: int
    timeout: float = 60.0
    think: tuple[float, float] = (0.2, 1.0)
    mix: tuple[tuple[str, float], ...] = (("team", 0.35), ("project", 0.30), ("refresh", 0.20), ("create", 0.15))
    http: requests.Session = field(default_factory=requests.Session)
    csrf: str = ""
    creates: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 - a reproducible load mix, not a secret

    # -- plumbing --

    def _send(
        self,
        phase: Phase | None,
        kind: str,
        method: str,
        path: str,
        *,
        htmx: bool = False,
        data: dict[str, str] | None = None,
    ) -> tuple[requests.Response | None, Record]:
        headers = {}
        if htmx:
            headers = {"HX-Request": "true", "HX-Current-URL": self.base_url + path}
        if method == "POST" and self.csrf:
            headers["X-CSRFToken"] = self.csrf
        started = time.monotonic()
        record = Record(
            phase=phase.name if phase else "setup",
            kind=kind,
            user=self.username,
            status=0,
            latency_ms=0.0,
            started=started - (phase.t0 if phase else started),
        )
        response = None
        try:
            response = self.http.request(
                method, self.base_url + path, headers=headers, data=data, timeout=self.timeout, allow_redirects=False
            )
            record.status = response.status_code
            if response.status_code >= 500:
                record.excerpt = strip_tags(response.text)[:400]
        except requests.Timeout:
            record.error = "timeout"
        except requests.RequestException as error:
            record.error = f"connection: {type(error).__name__}"
        record.latency_ms = (time.monotonic() - started) * 1000
        if phase is not None:
            self.records.append(record)
        return response, record

    def _remember_csrf(self, html: str) -> None:
        found = CSRF_IN_PAGE.search(html) or CSRF_IN_FORM.search(html)
        if found:
            self.csrf = found.group(1)

    # -- sign-in --

    def sign_in(self) -> None:
        """The real login form: GET it for the CSRF token, POST, follow to the team page."""
        page, _ = self._send(None, "login", "GET", "/login/")
        if page is None or page.status_code != 200:
            raise SignInError(f"{self.username}: the login page answered {page.status_code if page else 'nothing'}")
        token = CSRF_IN_FORM.search(page.text)
        if token is None:
            raise SignInError(f"{self.username}: no CSRF token in the login form")
        answer, _ = self._send(
            None,
            "login",
            "POST",
            "/login/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "username": self.username,
                "password": self.password,
                "next": "",
            },
        )
        if answer is None or answer.status_code != 302:
            excerpt = strip_tags(answer.text)[:300] if answer is not None else "no answer"
            raise SignInError(f"{self.username}: sign-in was not accepted: {excerpt}")
        team, _ = self._send(None, "team", "GET", f"/teams/{self.team_slug}/")
        if team is None or team.status_code != 200:
            raise SignInError(f"{self.username}: signed in, but the team page answered {team and team.status_code}")
        self._remember_csrf(team.text)  # the token changes at sign-in

    # -- actions --

    def run(self, phase: Phase, stop: threading.Event) -> None:
        kinds, weights = zip(*self.mix, strict=True)
        done = 0
        while not stop.is_set() and time.monotonic() < phase.deadline and done < phase.max_actions:
            kind = self.rng.choices(kinds, weights)[0]
            getattr(self, f"do_{kind}")(phase)
            done += 1
            pause = self.rng.uniform(*self.think)
            if stop.wait(min(pause, max(0.0, phase.deadline - time.monotonic()))):
                break

    def do_team(self, phase: Phase) -> None:
        response, _ = self._send(phase, "team", "GET", f"/teams/{self.team_slug}/")
        if response is not None and response.status_code == 200:
            self._remember_csrf(response.text)

    def do_project(self, phase: Phase) -> None:
        project_id = self.rng.choice(self.project_ids)
        response, _ = self._send(phase, "project", "GET", f"/projects/{project_id}/")
        if response is None or response.status_code != 200:
            return
        self._remember_csrf(response.text)
        # A stale mirror: the page asks for a refresh as soon as it loads (hx-trigger="load, …").
        if 'hx-trigger="load,' in response.text:
            self._refresh(phase, project_id, "on-load")

    def do_refresh(self, phase: Phase) -> None:
        self._refresh(phase, self.rng.choice(self.project_ids), "button")

    def _refresh(self, phase: Phase, project_id: int, why: str) -> None:
        response, record = self._send(phase, "refresh", "POST", f"/projects/{project_id}/refresh/", htmx=True)
        if response is not None and response.status_code == 200:
            record.outcome = f"{why}: {refresh_outcome(response.text)}"
        else:
            record.outcome = why

    def do_create(self, phase: Phase) -> None:
        project_id = self.rng.choice(self.project_ids)
        path = f"/projects/{project_id}/integrations/new/"
        form, form_record = self._send(phase, "create-form", "GET", path, htmx=True)
        if form is None or form.status_code != 200:
            return
        key = IDEMPOTENCY_KEY.search(form.text)
        providers = [
            (slug, stores.group(1).split(",") if (stores := DATA_STORES.search(attrs)) else list(PLATFORMS))
            for slug, attrs in PROVIDER_OPTION.findall(form.text)
        ]
        if key is None or not providers:
            form_record.outcome = "no form: " + strip_tags(form.text)[:200]
            return
        form_record.outcome = "form"
        self.creates += 1
        slug, stores = self.rng.choice(providers)
        fields = {
            "title": f"Load {self.run_tag} {self.username} #{self.creates:04d}",
            "provider": slug,
            "platform": self.rng.choice(stores),
            "idempotency_key": key.group(1),
            "csrfmiddlewaretoken": self.csrf,
        }
        outcome = self._submit(phase, project_id, fields, attempt=1)
        if outcome == "maybe" and time.monotonic() < phase.deadline:
            # What the page tells the person to do: submit the same form again (same key).
            time.sleep(1.0)
            self._submit(phase, project_id, fields, attempt=2)

    def _submit(self, phase: Phase, project_id: int, fields: dict[str, str], *, attempt: int) -> str:
        path = f"/projects/{project_id}/integrations/new/"
        response, record = self._send(phase, "create", "POST", path, htmx=True, data=fields)
        record.title = fields["title"]
        record.attempt = attempt
        if response is None:
            record.outcome = "no answer"
        elif response.status_code != 200:
            record.outcome = f"HTTP {response.status_code}"
        else:
            record.outcome = create_outcome(response.text)
            kept = IDEMPOTENCY_KEY.search(response.text)
            if record.outcome != "created" and kept:
                fields["idempotency_key"] = kept.group(1)  # the re-rendered form keeps the key
            if RECONCILE_EVENT in response.headers.get("HX-Trigger", ""):
                # The list on the page listens for this event and refreshes itself.
                self._refresh(phase, project_id, "reconcile")
        return record.outcome


def summarize(records: Iterable[Record]) -> dict[str, dict[str, Any]]:
    """Per kind: count, status histogram, outcome histogram, p50/p95/max latency (ms)."""
    by_kind: dict[str, list[Record]] = {}
    for record in records:
        by_kind.setdefault(record.kind, []).append(record)
    summary: dict[str, dict[str, Any]] = {}
    for kind, items in sorted(by_kind.items()):
        latencies = sorted(r.latency_ms for r in items)
        statuses = Counter(str(r.status) if r.status else r.error.split(":")[0] for r in items)
        outcomes = Counter(r.outcome for r in items if r.outcome)
        summary[kind] = {
            "count": len(items),
            "statuses": dict(sorted(statuses.items())),
            "outcomes": dict(outcomes.most_common()),
            "p50_ms": round(percentile(latencies, 0.50), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1),
            "max_ms": round(latencies[-1], 1) if latencies else 0.0,
        }
    return summary
