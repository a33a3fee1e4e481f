"""Every write of the accounts app, each with its audit event in the same transaction."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.views.decorators.debug import sensitive_variables
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.two_factor import CODE_DIGITS, DEVICE_NAME, STEP_SECONDS, SecretMatch
from audit.models import Outcome
from audit.services import record
from teams.models import Team


class TwoFactorAlreadyOn(Exception):
    """The user already has a confirmed device; removing it needs a code first."""


@dataclass(frozen=True)
class TwoFactorEnabled:
    device: TOTPDevice
    backup_codes: list[str]  # to show once; never logged or recorded

    def __repr__(self) -> str:
        return f"TwoFactorEnabled(device={self.device!r}, backup_codes=[{len(self.backup_codes)} hidden])"


@sensitive_variables("codes", "secret_hex")
def two_factor_enable(*, user: User, secret_hex: str, match: SecretMatch, ip: str | None) -> TwoFactorEnabled:
    with transaction.atomic():
        if TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists():
            raise TwoFactorAlreadyOn
        # Unconfirmed leftovers (e.g. added half-way in the admin) would only confuse.
        TOTPDevice.objects.filter(user_id=user.pk).delete()
        device = TOTPDevice.objects.create(
            user=user,
            name=DEVICE_NAME,
            key=secret_hex,
            step=STEP_SECONDS,
            digits=CODE_DIGITS,
            confirmed=True,
            last_t=match.last_t,
            drift=match.drift,
        )
        record(
            action="account.2fa_enabled",
            actor=user,
            outcome=Outcome.SUCCESS,
            detail={"method": "totp"},
            ip=ip,
            target_type="user",
            target_id=str(user.pk),
            target_repr=user.get_username(),
        )
        codes = _replace_backup_codes(user=user, ip=ip)
    return TwoFactorEnabled(device=device, backup_codes=codes)


def two_factor_disable(*, user: User, ip: str | None) -> None:
    """Remove the authenticator app and the backup codes with it."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user_id=user.pk).delete()
        StaticDevice.objects.filter(user_id=user.pk).delete()  # its codes go with it
        record(
            action="account.2fa_disabled",
            actor=user,
            outcome=Outcome.SUCCESS,
            target_type="user",
            target_id=str(user.pk),
            target_repr=user.get_username(),
            ip=ip,
        )


@sensitive_variables("codes")
def backup_codes_create(*, user: User, ip: str | None) -> list[str]:
    """New backup codes for a user with an authenticator app; the old ones stop working.
    The codes are returned to be shown once; the audit event has only their number."""
    with transaction.atomic():
        return _replace_backup_codes(user=user, ip=ip)


@sensitive_variables("code")
def one_time_code_check(*, user: User, device: TOTPDevice, code: str, ip: str | None) -> two_factor.CodeCheck:
    """Check a code from the app or a backup code (a backup code is spent); a used
    backup code is recorded with how many are left. Refusals are the caller's to count."""
    with transaction.atomic():
        check = two_factor.check_code_or_backup_code(user, device, code)
        if check.used_backup_code:
            record(
                action="account.backup_code_used",
                actor=user,
                outcome=Outcome.SUCCESS,
                detail={"codes_left": two_factor.backup_codes_left(user)},
                ip=ip,
                target_type="user",
                target_id=str(user.pk),
                target_repr=user.get_username(),
            )
    return check


@sensitive_variables("codes")
def _replace_backup_codes(*, user: User, ip: str | None) -> list[str]:
    """Inside the caller's transaction. The user keeps one StaticDevice and only its
    codes change, so a session verified with a backup code stays verified."""
    device = StaticDevice.objects.filter(user_id=user.pk).order_by("pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name=two_factor.BACKUP_DEVICE_NAME, confirmed=True)
    else:
        StaticDevice.objects.filter(user_id=user.pk).exclude(pk=device.pk).delete()
        device.token_set.all().delete()
        if not device.confirmed:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
    codes = two_factor.new_backup_codes()
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    record(
        action="account.backup_codes_created",
        actor=user,
        outcome=Outcome.SUCCESS,
        detail={"count": len(codes)},
        ip=ip,
        target_type="user",
        target_id=str(user.pk),
        target_repr=user.get_username(),
    )
    return codes


def team_set_two_factor_required(*, team: Team, actor: User, required: bool, ip: str | None) -> bool:
    """Turn the team's requirement on or off; False when it already was that way."""
    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        before = locked.require_two_factor
        if before == required:
            return False
        locked.require_two_factor = required
        locked.save(update_fields=["require_two_factor"])
        record(
            action="team.2fa_required" if required else "team.2fa_not_required",
            actor=actor,
            outcome=Outcome.SUCCESS,
            team=locked,
            target_type="team",
            target_id=str(locked.pk),
            target_repr=locked.name,
            detail={"before": before, "after": required},
            ip=ip,
        )
    team.require_two_factor = required
    return True


def password_change(*, user: User, new_password: str, via: str, ip: str | None) -> None:
    """Set a new password (already validated by the form); `via` says which page."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        record(
            action="account.password_changed",
            actor=user,
            outcome=Outcome.SUCCESS,
            detail={"via": via},
            ip=ip,
            target_type="user",
            target_id=str(user.pk),
            target_repr=user.get_username(),
        )


def password_reset_requested(*, users: Iterable[User], ip: str | None) -> None:
    """One event per account a reset link was sent to. When the address matches no
    account, one event without it: the address someone typed is not theirs to keep."""
    with transaction.atomic():
        recorded = 0
        for user in users:
            record(
                action="account.password_reset_requested",
                actor=None,
                outcome=Outcome.SUCCESS,
                ip=ip,
                target_type="user",
                target_id=str(user.pk),
                target_repr=user.get_username(),
            )
            recorded += 1
        if recorded == 0:
            record(
                action="account.password_reset_requested",
                actor=None,
                outcome=Outcome.FAILURE,
                detail={"account_found": False},
                ip=ip,
            )
