"""Every write of the accounts app, each with its audit event in the same transaction."""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.two_factor import CODE_DIGITS, DEVICE_NAME, STEP_SECONDS, SecretMatch
from integrations.audit import record
from integrations.models import Outcome, Team


class TwoFactorAlreadyOn(Exception):
    """The user already has a confirmed device; removing it needs a code first."""


def two_factor_enable(*, user: User, secret_hex: str, match: SecretMatch, ip: str | None) -> TOTPDevice:
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
    return device


def two_factor_disable(*, user: User, ip: str | None) -> None:
    with transaction.atomic():
        TOTPDevice.objects.filter(user_id=user.pk).delete()
        record(
            action="account.2fa_disabled",
            actor=user,
            outcome=Outcome.SUCCESS,
            target_type="user",
            target_id=str(user.pk),
            target_repr=user.get_username(),
            ip=ip,
        )


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
