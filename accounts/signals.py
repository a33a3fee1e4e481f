"""Audit events for signing in: who signed in, who failed and who got locked out; and
backup codes that leave with the authenticator app.

Connected in AccountsConfig.ready(). team stays empty: these belong to a person, and a
team owner finds a member's sign-ins by actor. Passwords and codes never reach these
receivers (Django masks the password in `credentials`; the code step sends only the
username).
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, User
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice

from audit.models import AuditEvent, Outcome
from audit.services import record
from qonadmin.http import client_ip

USERNAME_LENGTH = 150  # AuditEvent.actor_username


def _ip(request: HttpRequest | None) -> str | None:
    return client_ip(request) if request is not None else None


def _over_http(request: HttpRequest | None) -> bool:
    """A sign-in by a person comes with an HTTP request. Code that signs a user in
    without one (the test client's force_login() passes a bare HttpRequest with no
    method; authenticate() in a management command passes none) is not audited, the
    same rule as accounts.backends applies to throttling."""
    return request is not None and request.method is not None


def _user_named(username: str) -> User | None:
    return User.objects.filter(username=username).first() if username else None


def _record_attempt(*, action: str, attempted: str, request: HttpRequest | None, detail: dict[str, Any]) -> AuditEvent:
    """A failure event whose actor is the account if it exists, else only the name tried.

    audit.services.record() takes the name from the user, so an attempt on an
    unknown username is written here with the same fields record() would fill."""
    user = _user_named(attempted)
    if user is not None:
        return record(action=action, actor=user, outcome=Outcome.FAILURE, detail=detail, ip=_ip(request))
    return AuditEvent.objects.create(
        action=action,
        actor=None,
        actor_username=attempted,
        outcome=Outcome.FAILURE,
        detail=detail,
        ip=_ip(request),
    )


def audit_sign_in(sender: object, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any) -> None:
    if not _over_http(request):
        return
    record(
        action="auth.sign_in",
        actor=user if isinstance(user, User) else None,
        outcome=Outcome.SUCCESS,
        target_type="user",
        target_id=str(user.pk),
        target_repr=user.get_username(),
        # Set by the one-time-code step just before it signs the user in.
        detail={"two_factor": getattr(user, "otp_device", None) is not None},
        ip=_ip(request),
    )


def audit_failed_sign_in(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    if not _over_http(request):
        return
    attempted = str(credentials.get(User.USERNAME_FIELD) or "")[:USERNAME_LENGTH]
    detail: dict[str, Any] = {"step": str(kwargs.get("step", "password"))}
    # django-axes handles this signal first and marks the request when the client is
    # (or has just become) locked out.
    if request is not None and getattr(request, "axes_locked_out", False):
        detail["locked_out"] = True
    _record_attempt(action="auth.sign_in_failed", attempted=attempted, request=request, detail=detail)


def audit_locked_out(sender: object, request: HttpRequest, username: str | None, **kwargs: Any) -> None:
    # Axes sends this both when a lockout begins and for every attempt refused during
    # it; only the beginning is an event of its own (refused attempts are recorded as
    # auth.sign_in_failed with locked_out). Axes counts failures only at the beginning.
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None:
        return
    cool_off = settings.AXES_COOLOFF_TIME
    _record_attempt(
        action="auth.locked_out",
        attempted=str(username or "")[:USERNAME_LENGTH],
        request=request,
        detail={"failures": int(failures), "cool_off_minutes": int(cool_off.total_seconds() // 60)},
    )


def forget_backup_codes(sender: object, instance: Any, **kwargs: Any) -> None:
    """Backup codes exist only while the user has an authenticator app. The settings
    page removes both; this also covers an administrator deleting the app's device in
    Django admin (a lost phone), which would otherwise leave the codes behind."""
    if not getattr(instance, "confirmed", False):
        return  # an unfinished set-up, never the one that made the codes
    user_id = instance.user_id
    if type(instance).objects.filter(user_id=user_id, confirmed=True).exists():
        return
    StaticDevice.objects.filter(user_id=user_id).delete()
