"""Time-based one-time codes (TOTP, RFC 6238) with django-otp: enrolment, checking a
code, backup codes, and the half-signed-in state between the password and the code.

A user has at most one device, an authenticator app. Its secret is created when the
user opens the enrolment page, kept in their session (not the database) until they
prove with a code that their app has it, and only then saved as a confirmed device.

With the app come backup codes (django-otp's static tokens): single-use codes for a
lost or flat phone, on one StaticDevice per user. They exist only while the app does.
"""

import base64
import binascii
import io
import re
import time
from dataclasses import dataclass
from datetime import datetime

import django_otp
import segno
from django.contrib import auth
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from teams.models import Membership, Team

DEVICE_NAME = "Authenticator app"
CODE_DIGITS = 6
# The same as TOTPDevice's defaults, which every authenticator app understands.
STEP_SECONDS = 30
TOLERANCE_STEPS = 1

# Between the password and the code: who passed the password, and when.
PENDING_SESSION_KEY = "accounts.pending_sign_in"
# Five minutes to open the app and type a code; after that, the password again.
PENDING_SECONDS = 300
ENROLMENT_SESSION_KEY = "accounts.new_totp_secret"

BACKUP_DEVICE_NAME = "Backup codes"
BACKUP_CODE_COUNT = 10
# What StaticToken.random_token() makes: 5 random bytes in lower-case base32, so
# 8 characters that never look like a 6-digit code from the app.
BACKUP_CODE = re.compile(r"[a-z2-7]{8}")
TOTP_CODE = re.compile(f"[0-9]{{{CODE_DIGITS}}}")


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("pk").first()


def backup_codes_device(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("pk").first()


def backup_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user_id=user.pk, device__confirmed=True).count())


def new_backup_codes() -> list[str]:
    codes: set[str] = set()
    while len(codes) < BACKUP_CODE_COUNT:
        codes.add(str(StaticToken.random_token()))
    return sorted(codes)


# --- Checking a code -------------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    device: Device | None  # the device that accepted the code, if it did
    # django-otp's own per-device throttle (waits of 1, 2, 4, 8… seconds after each
    # wrong code, across every address): when it is on, the code was not even tried.
    retry_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.device is not None

    @property
    def used_backup_code(self) -> bool:
        return isinstance(self.device, StaticDevice)


def check_code(user: User, device: Device, code: str) -> CodeCheck:
    """Check a code against one of the user's devices; a code is accepted once only
    (a backup code is deleted when it is accepted)."""
    allowed, details = device.verify_is_allowed()
    if not allowed:
        return CodeCheck(device=None, retry_at=(details or {}).get("locked_until"))
    # verify_token locks the device row, so two requests cannot both spend one code.
    verified = django_otp.verify_token(user, device.persistent_id, code)
    return CodeCheck(device=verified)


def check_code_or_backup_code(user: User, device: TOTPDevice, code: str) -> CodeCheck:
    """A code from the app goes to the app's device, a backup code to the backup codes:
    the two never look alike, so a code is tried on one device only and each device
    keeps its own django-otp throttle. Wrong either way is a wrong code."""
    if BACKUP_CODE.fullmatch(code):
        backup = backup_codes_device(user)
        return check_code(user, backup, code) if backup is not None else CodeCheck(device=None)
    return check_code(user, device, code)


# --- Enrolment --------------------------------------------------------------------


@dataclass(frozen=True)
class SecretMatch:
    """Where the user's app stands: saved on the device so the code used to confirm
    it cannot be used again to sign in."""

    last_t: int
    drift: int


def enrolment_secret(request: HttpRequest) -> str:
    """The hex secret being enrolled: the same one until it is confirmed, so
    reloading the page does not invalidate what the user already scanned."""
    secret = request.session.get(ENROLMENT_SESSION_KEY)
    if not isinstance(secret, str):
        secret = str(default_key())
        request.session[ENROLMENT_SESSION_KEY] = secret
    return secret


def forget_enrolment_secret(request: HttpRequest) -> None:
    request.session.pop(ENROLMENT_SESSION_KEY, None)


def match_new_secret(secret_hex: str, code: str) -> SecretMatch | None:
    try:
        key = binascii.unhexlify(secret_hex)
    except (binascii.Error, ValueError):
        return None
    totp = TOTP(key, step=STEP_SECONDS, t0=0, digits=CODE_DIGITS, drift=0)
    if not totp.verify(int(code), tolerance=TOLERANCE_STEPS):
        return None
    return SecretMatch(last_t=int(totp.t()), drift=int(totp.drift))


def readable_secret(secret_hex: str) -> str:
    """The secret as authenticator apps take it when typed: base32, in groups of four."""
    encoded = base64.b32encode(binascii.unhexlify(secret_hex)).decode().rstrip("=")
    return " ".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def provisioning_uri(user: User, secret_hex: str) -> str:
    # An unsaved device only formats the otpauth:// URI (issuer from OTP_TOTP_ISSUER).
    return str(TOTPDevice(user=user, key=secret_hex, step=STEP_SECONDS, digits=CODE_DIGITS).config_url)


def qr_code_data_uri(text: str) -> str:
    """A QR code as an SVG data URI for an <img>: drawn here, no script, no style
    attribute, no request to anyone else. Dark on white so it scans in dark mode too."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(
        buffer, kind="svg", scale=5, border=4, dark="#000000", light="#ffffff", xmldecl=False
    )
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


# --- Between the password and the code --------------------------------------------


@dataclass(frozen=True)
class PendingSignIn:
    user: User
    backend: str


def start_pending_sign_in(request: HttpRequest, user: User) -> None:
    """The password was right; the user is not signed in until the code is too."""
    request.session.cycle_key()  # a session id seen before the password is not reused
    request.session[PENDING_SESSION_KEY] = {
        "user_id": user.pk,
        "backend": getattr(user, "backend", "django.contrib.auth.backends.ModelBackend"),
        "started": time.time(),
        # A password change (or reset) in the meantime cancels the pending sign-in.
        "auth_hash": user.get_session_auth_hash(),
    }


def pending_sign_in(request: HttpRequest) -> PendingSignIn | None:
    data = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(data, dict):
        return None
    if time.time() - float(data.get("started", 0)) > PENDING_SECONDS:
        clear_pending_sign_in(request)
        return None
    user = User.objects.filter(pk=int(data.get("user_id") or 0), is_active=True).first()
    if user is None or not constant_time_compare(user.get_session_auth_hash(), str(data.get("auth_hash", ""))):
        clear_pending_sign_in(request)
        return None
    return PendingSignIn(user=user, backend=str(data.get("backend", "")))


def clear_pending_sign_in(request: HttpRequest) -> None:
    request.session.pop(PENDING_SESSION_KEY, None)


def complete_sign_in(request: HttpRequest, pending: PendingSignIn, device: Device) -> None:
    """Sign the user in and mark the session verified by their device."""
    clear_pending_sign_in(request)
    user = pending.user
    # Read by the user_logged_in receivers (the audit event notes the second factor).
    user.otp_device = device  # type: ignore[attr-defined]
    auth.login(request, user, backend=pending.backend)
    django_otp.login(request, device)


def verify_session(request: HttpRequest, device: Device) -> None:
    """A session that was signed in with the password only now passed the code too."""
    request.session.cycle_key()
    django_otp.login(request, device)


# --- What an owner sees ------------------------------------------------------------


def members_with_two_factor(team: Team) -> list[tuple[Membership, bool]]:
    """Each member of the team and whether they have two-factor sign-in set up."""
    devices = TOTPDevice.objects.filter(user_id=OuterRef("user_id"), confirmed=True)
    memberships = (
        Membership.objects.filter(team=team)
        .select_related("user")
        .annotate(has_two_factor=Exists(devices))
        .order_by("user__username")
    )
    return [(membership, bool(membership.has_two_factor)) for membership in memberships]


def teams_requiring_two_factor(user: User) -> list[Team]:
    return list(Team.objects.filter(memberships__user=user, require_two_factor=True).order_by("name"))
