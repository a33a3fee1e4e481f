"""Writes for team membership: invitations, roles, removal. Each is audited.

Rules that protect a team: it always keeps at least one owner, and only an owner
may make or unmake owners.
"""

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from integrations import audit
from integrations.models import INVITATION_LIFETIME, Invitation, Membership, Outcome, Role, Team

ELEVATED_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class MembershipError(Exception):
    """A membership change the rules forbid; the message is for the person at the screen."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _role_label(role: str) -> str:
    return Role(role).label


def _check_may_assign(actor_role: str, role: str) -> None:
    if role == Role.OWNER and actor_role != Role.OWNER:
        raise MembershipError("Only an owner can make someone an owner.")


def _owner_count(team: Team) -> int:
    return Membership.objects.filter(team=team, role=Role.OWNER).count()


# ---- invitations -------------------------------------------------------------------------


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    link: str


def _send_invitation_email(invitation: Invitation, link: str, inviter: User) -> None:
    context = {"invitation": invitation, "link": link, "inviter": inviter, "days": INVITATION_LIFETIME.days}
    send_mail(
        subject=f"You are invited to {invitation.team.name} on qonadmin",
        message=render_to_string("integrations/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )


class LinkBuilder:
    """Turns an invitation token into the absolute link put in the email."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def __call__(self, token: str) -> str:
        return f"{self.base_url}/invitations/{token}/"


def _record_invitation(
    invitation: Invitation, *, action: str, actor: User, detail: dict[str, str] | None = None, ip: str | None
) -> None:
    audit.record(
        action=action,
        actor=actor,
        outcome=Outcome.SUCCESS,
        team=invitation.team,
        target_type="invitation",
        target_id=str(invitation.pk),
        target_repr=invitation.email,
        detail=detail,
        ip=ip,
    )


def _deliver(invitation: Invitation, token: str, link_for: LinkBuilder, inviter: User) -> SentInvitation:
    """Email the link; done after the transaction so a rolled-back invitation sends nothing."""
    link = link_for(token)
    _send_invitation_email(invitation, link, inviter)
    return SentInvitation(invitation, link)


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def invitation_create(
    *, team: Team, actor: User, actor_role: str, email: str, role: str, link_for: LinkBuilder, ip: str | None = None
) -> SentInvitation:
    email = email.strip().lower()
    _check_may_assign(actor_role, role)
    if Membership.objects.filter(team=team, user__email__iexact=email).exists():
        raise MembershipError(f"{email} is already a member of {team.name}.")
    if any(i.is_pending for i in Invitation.objects.filter(team=team, email=email)):
        raise MembershipError(f"{email} already has a pending invitation; resend it from the list below.")
    token, hashed = _new_token()
    now = timezone.now()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            team=team,
            email=email,
            role=role,
            token_hash=hashed,
            created_at=now,
            invited_by=actor,
            sent_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
        _record_invitation(invitation, action="invitation.sent", actor=actor, detail={"role": role}, ip=ip)
    return _deliver(invitation, token, link_for, actor)


def invitation_resend(
    *, invitation: Invitation, actor: User, actor_role: str, link_for: LinkBuilder, ip: str | None = None
) -> SentInvitation:
    """A fresh link and a fresh 7 days for a pending or expired invitation; the old
    link stops working. A revoked invitation stays revoked: invite again instead."""
    _check_may_assign(actor_role, invitation.role)
    if invitation.accepted_at is not None:
        raise MembershipError("This invitation was already accepted.")
    if invitation.revoked_at is not None:
        raise MembershipError("This invitation was revoked; send a new one if it is still wanted.")
    token, hashed = _new_token()
    now = timezone.now()
    with transaction.atomic():
        invitation.token_hash, invitation.sent_at = hashed, now
        invitation.expires_at = now + INVITATION_LIFETIME
        invitation.save(update_fields=["token_hash", "sent_at", "expires_at"])
        _record_invitation(invitation, action="invitation.resent", actor=actor, ip=ip)
    return _deliver(invitation, token, link_for, actor)


def invitation_revoke(*, invitation: Invitation, actor: User, ip: str | None = None) -> None:
    if not invitation.is_pending:
        raise MembershipError(f"This invitation is {invitation.state} already.")
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        _record_invitation(invitation, action="invitation.revoked", actor=actor, ip=ip)


def pending_invitation(token: str) -> Invitation | None:
    """The invitation this link is for, if it can still be accepted."""
    invitation = Invitation.objects.select_related("team").filter(token_hash=token_hash(token)).first()
    return invitation if invitation is not None and invitation.is_pending else None


def invitation_accept(*, invitation: Invitation, user: User, ip: str | None = None) -> Membership:
    """Join the team. Single use: a second use finds the invitation accepted."""
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_pending:
            raise MembershipError("This invitation link has already been used, was revoked, or has expired.")
        if locked.role in ELEVATED_ROLES and user.email.lower() != locked.email:
            # A forwarded link may make someone a member, never an admin or owner.
            raise MembershipError(
                f"This {locked.get_role_display().lower()} invitation is for {locked.email}; "
                "sign in with the account that has that email address."
            )
        membership = Membership.objects.filter(team=locked.team, user=user).first()
        created = membership is None
        if membership is None:
            try:
                with transaction.atomic():
                    membership = Membership.objects.create(team=locked.team, user=user, role=locked.role)
            except IntegrityError:  # joined through another path at the same moment
                membership = Membership.objects.get(team=locked.team, user=user)
                created = False
        locked.accepted_at, locked.accepted_by = timezone.now(), user
        locked.save(update_fields=["accepted_at", "accepted_by"])
        audit.record(
            action="invitation.accepted",
            actor=user,
            outcome=Outcome.SUCCESS,
            team=locked.team,
            target_type="membership",
            target_id=str(membership.pk),
            target_repr=user.get_username(),
            detail={"role": membership.role, "new_member": created, "invitation": locked.pk},
            ip=ip,
        )
    return membership


# ---- members -----------------------------------------------------------------------------


def _lock_team(team: Team, actor: User) -> str:
    """Serialise membership changes of one team and return the actor's role as it is now.

    Two owners demoting each other at once would otherwise each see two owners and
    both succeed, leaving none."""
    Team.objects.select_for_update().filter(pk=team.pk).first()
    role = Membership.objects.filter(team=team, user=actor).values_list("role", flat=True).first()
    if role is None:
        raise MembershipError(f"You are no longer a member of {team.name}.")
    return role


def member_change_role(*, membership: Membership, actor: User, role: str, ip: str | None = None) -> Membership:
    team = membership.team
    with transaction.atomic():
        actor_role = _lock_team(team, actor)
        locked = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        if role == locked.role:
            return locked
        if Role.OWNER in (role, locked.role) and actor_role != Role.OWNER:
            raise MembershipError("Only an owner can make or unmake owners.")
        if locked.role == Role.OWNER and _owner_count(team) <= 1:
            raise MembershipError(f"{team.name} must keep at least one owner: make someone else owner first.")
        before = locked.role
        locked.role = role
        locked.save(update_fields=["role"])
        audit.record(
            action="member.role_changed",
            actor=actor,
            outcome=Outcome.SUCCESS,
            team=team,
            target_type="membership",
            target_id=str(locked.pk),
            target_repr=locked.user.get_username(),
            detail={"before": {"role": before}, "after": {"role": role}},
            ip=ip,
        )
    return locked


def member_remove(*, membership: Membership, actor: User, ip: str | None = None) -> None:
    team = membership.team
    leaving_self = membership.user_id == actor.pk
    with transaction.atomic():
        actor_role = _lock_team(team, actor)
        locked = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        if not leaving_self and actor_role not in (Role.OWNER, Role.ADMIN):
            raise MembershipError("Only admins and owners can remove members.")
        if locked.role == Role.OWNER and actor_role != Role.OWNER:
            raise MembershipError("Only an owner can remove an owner.")
        if locked.role == Role.OWNER and _owner_count(team) <= 1:
            raise MembershipError(f"{team.name} must keep at least one owner: make someone else owner first.")
        username = locked.user.get_username()
        audit.record(
            action="member.left" if leaving_self else "member.removed",
            actor=actor,
            outcome=Outcome.SUCCESS,
            team=team,
            target_type="membership",
            target_id=str(locked.pk),
            target_repr=username,
            detail={"before": {"role": locked.role}},
            ip=ip,
        )
        locked.delete()
