"""Failed sign-ins: a clear message, an audit trail, and a lockout that ends by itself."""

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.contrib.auth import authenticate
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tests.accounts import sign_in
from tests.qonadmin.test_settings_safety import PRODUCTION_ENV, manage

pytestmark = pytest.mark.django_db

SECRET_PASSWORD = "correct-horse-battery-staple-9137"
LOCKED_OUT = "Too many failed sign-ins for this account from your address. Try again in 15 minutes."


def fail(client: Client, username: str, times: int, **extra: str) -> None:
    for _ in range(times):
        sign_in(client, username, SECRET_PASSWORD, **extra)


def test_it_uses_the_documented_defaults():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_production_settings_hash_passwords_with_argon2_first():
    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.PASSWORD_HASHERS[0])", env=PRODUCTION_ENV
    )
    assert result.stdout.strip().splitlines()[-1] == "django.contrib.auth.hashers.Argon2PasswordHasher", result.stderr


def test_it_reads_the_limits_from_the_environment():
    code = "from django.conf import settings; print(settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME)"
    env = {**PRODUCTION_ENV, "QONADMIN_LOGIN_FAILURE_LIMIT": "8", "QONADMIN_LOGIN_COOLOFF_MINUTES": "30"}
    result = manage("shell", "-c", code, env=env)
    assert result.stdout.strip().splitlines()[-1] == "8 0:30:00", result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("QONADMIN_LOGIN_FAILURE_LIMIT", "many", "QONADMIN_LOGIN_FAILURE_LIMIT must be a whole number"),
        ("QONADMIN_LOGIN_COOLOFF_MINUTES", "0", "QONADMIN_LOGIN_COOLOFF_MINUTES must be at least 1"),
    ],
)
def test_it_refuses_malformed_limits(name: str, value: str, message: str):
    result = manage("check", env={**PRODUCTION_ENV, name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_a_wrong_password_gets_the_usual_message_and_an_audit_event(client: Client, owner):
    response = sign_in(client, "alice", SECRET_PASSWORD, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert (event.actor, event.actor_username, event.outcome, event.ip) == (owner, "alice", "failure", "203.0.113.7")
    assert event.team is None
    assert event.detail == {"step": "password"}


def test_an_unknown_username_is_recorded_by_name_only(client: Client, db):
    sign_in(client, "x" * 200, SECRET_PASSWORD)
    event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert event.actor is None
    assert event.actor_username == "x" * 150


def test_a_sign_in_is_recorded_with_the_address(client: Client, owner):
    sign_in(client, "alice", REMOTE_ADDR="198.51.100.4")
    event = AuditEvent.objects.get(action="auth.sign_in")
    assert (event.actor, event.outcome, event.ip, event.team) == (owner, "success", "198.51.100.4", None)
    assert event.detail == {"two_factor": False}


def test_it_locks_the_username_and_address_out_at_the_fifth_failure(client: Client, owner):
    for _ in range(4):
        html = sign_in(client, "alice", SECRET_PASSWORD).content.decode()
        assert "Please enter a correct username and password" in html
    fifth = sign_in(client, "alice", SECRET_PASSWORD)
    assert fifth.status_code == 429
    assert LOCKED_OUT in fifth.content.decode()
    response = sign_in(client, "alice")  # the right password is refused too
    assert response.status_code == 429
    assert LOCKED_OUT in response.content.decode()
    assert "_auth_user_id" not in client.session
    locked = AuditEvent.objects.filter(action="auth.locked_out")
    assert [(e.actor, e.actor_username, e.detail["failures"]) for e in locked] == [(owner, "alice", 5)]
    refused = AuditEvent.objects.filter(action="auth.sign_in_failed").first()  # newest first
    assert refused is not None and refused.detail == {"step": "password", "locked_out": True}


def test_the_locked_out_page_is_a_real_page(client: Client, owner):
    fail(client, "alice", 5)
    response = sign_in(client, "alice")
    html = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert "<h1>Sign-in paused</h1>" in html
    assert 'href="/password-reset/"' in html


def test_another_address_and_another_user_are_not_locked_out(client: Client, owner, member):
    fail(client, "alice", 5)
    assert sign_in(Client(), "alice", REMOTE_ADDR="10.1.2.3").status_code == 302
    assert sign_in(Client(), "bob").status_code == 302


def test_the_lockout_ends_after_the_cool_off_and_retrying_does_not_extend_it(client: Client, owner):
    fail(client, "alice", 5)
    before = list(AccessAttempt.objects.values_list("failures_since_start", "attempt_time"))
    fail(client, "alice", 3)  # refused while locked out
    assert list(AccessAttempt.objects.values_list("failures_since_start", "attempt_time")) == before
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    response = sign_in(client, "alice", follow=True)
    assert response.redirect_chain, response.content.decode()
    assert AccessAttempt.objects.count() == 0  # a success starts the count again


def test_a_success_resets_the_count(client: Client, owner):
    fail(client, "alice", 4)
    assert sign_in(client, "alice").status_code == 302
    client.post(reverse("logout"))
    fail(client, "alice", 4)
    assert sign_in(client, "alice").status_code == 302


def test_no_password_is_logged_or_stored(client: Client, owner, caplog):
    caplog.set_level(logging.DEBUG)
    fail(client, "alice", 6)
    stored = " ".join(
        f"{a.get_data} {a.post_data} {a.username} {a.http_accept}" for a in AccessAttempt.objects.all()
    ) + " ".join(str(e.detail) for e in AuditEvent.objects.all())
    assert SECRET_PASSWORD not in stored
    assert SECRET_PASSWORD not in caplog.text
    assert "password=********************" in stored  # axes keeps the form, masked
    assert not AccessLog.objects.exists()  # sign-ins live in the audit log only


def test_authenticate_without_a_request_still_checks_the_password(owner):
    """Management commands and scripts call authenticate() without a request: nothing
    remote to throttle, and they are not audited as sign-ins."""
    assert authenticate(username="alice", password="password") == owner
    assert authenticate(username="alice", password="nope") is None
    assert not AuditEvent.objects.exists()
