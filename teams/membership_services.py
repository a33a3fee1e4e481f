"""Writes for team membership: invitations, roles, removal. Each is audited.

Rules that protect a team: it always keeps at least one owner, only an owner may
make or unmake owners, and an admin or owner invitation is accepted only with a code
mailed to the invited address (see "proving the invited address").
"""

import hashlib
import secrets
import time
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.views.decorators.debug import sensitive_variables

from audit import services as audit
from audit.models import AuditEvent, Outcome
from qonadmin.errors import ServiceError
from qonadmin.mail import send_email_later
from teams.access import Action, role_allows, roles_allowed
from teams.models import INVITATION_LIFETIME, Invitation, Membership, Role, Team

# Invitations to these roles need the invited address proved (a mailed code).
ELEVATED_ROLES = roles_allowed(Action.MANAGE_MEMBERS)


class MembershipError(ServiceError):
    """A membership change the rules forbid; the message is for the person at the screen."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_may_assign(actor_role: str, role: str) -> None:
    if role == Role.OWNER and not role_allows(actor_role, Action.MANAGE_OWNERS):
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
    send_email_later(
        subject=f"You are invited to {invitation.team.name} on qonadmin",
        body=render_to_string("teams/email/invitation.txt", context),
        to=[invitation.email],
    )


class LinkBuilder:
    """Turns an invitation token into the absolute link put in the email."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def __call__(self, token: str) -> str:
        return self.base_url + reverse("invitation", kwargs={"token": token})


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


_LINK_DEAD = "This invitation link has already been used, was revoked, or has expired."


def _lock_pending(invitation: Invitation) -> Invitation:
    """The invitation row, locked until the caller's transaction ends, if still pending."""
    locked = Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
    if locked is None or not locked.is_pending:
        raise MembershipError(_LINK_DEAD)
    return locked


# ---- proving the invited address ---------------------------------------------------------
#
# An admin or owner invitation is accepted only by someone who proves they read the
# invited address: after they accept, a short code is mailed there, and only that code
# completes the acceptance. The link alone may be forwarded, leaked or copied from a
# mailbox, so it is enough only for members and viewers. An account's email address
# proves nothing either: accepting a member invitation copies the invited address onto
# the new account unchecked.
#
# The code lives in the browser's session as a keyed hash (`CodeChallenge`). Wrong
# tries and sent codes are counted from the audit log under a lock on the invitation
# row, so parallel guesses or a fresh session cannot get past the limits.

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=15)
MAX_WRONG_CODES = 5
MAX_CODES_PER_HOUR = 5
VOID_EXPIRED = "expired"
VOID_TOO_MANY = "too many wrong codes"


def invitation_needs_code(invitation: Invitation) -> bool:
    return invitation.role in ELEVATED_ROLES


@dataclass(frozen=True)
class AddressProof:
    """Someone typed the code mailed to this invitation's address. Only
    `invitation_code_check` makes one; `invitation_accept` requires it for admins and owners."""

    invitation_id: int


@dataclass(frozen=True)
class CodeChallenge:
    """A code sent for one invitation, as the session keeps it: the code only as a
    keyed hash, and for a new account its username and hashed password, never the
    password itself."""

    id: str  # names this code in the audit log; not secret
    invitation_id: int
    code_hash: str  # "" once the code no longer works
    expires_at: float  # Unix time
    user_id: int | None  # the signed-in account that asked; None for a new account
    username: str = ""
    password_hash: str = ""
    void_reason: str = ""

    def to_session(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_session(cls, data: object) -> "CodeChallenge | None":
        if not isinstance(data, dict):
            return None
        try:
            challenge = cls(**data)
        except TypeError:
            return None
        texts = (challenge.id, challenge.code_hash, challenge.username, challenge.password_hash, challenge.void_reason)
        if not all(isinstance(text, str) for text in texts) or not isinstance(challenge.invitation_id, int):
            return None
        if challenge.user_id is not None and not isinstance(challenge.user_id, int):
            return None
        if not isinstance(challenge.expires_at, int | float):
            return None
        return challenge

    def belongs_to(self, invitation: Invitation, user: User | None) -> bool:
        """Whether this code was asked for this invitation by this visitor (the same
        signed-in account, or someone signed out creating an account)."""
        return self.invitation_id == invitation.pk and self.user_id == (user.pk if user is not None else None)


@dataclass(frozen=True)
class CodeCheck:
    proof: AddressProof | None
    challenge: CodeChallenge  # what the session keeps now
    refusal: str = ""  # why not, for the person at the screen


@sensitive_variables("code")
def _code_hash(challenge_id: str, invitation_id: int, code: str) -> str:
    # Keyed with SECRET_KEY and bound to its invitation: a million possible codes
    # cannot be tried offline, and a code of one invitation means nothing for another.
    return salted_hmac(
        "qonadmin.invitation-code", f"{challenge_id}:{invitation_id}:{code}", algorithm="sha256"
    ).hexdigest()


def _code_events(invitation: Invitation, action: str) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(target_type="invitation", target_id=str(invitation.pk), action=action)


def _record_code(
    invitation: Invitation, *, action: str, actor: User | None, outcome: Outcome, detail: dict[str, Any], ip: str | None
) -> None:
    audit.record(
        action=action,
        actor=actor,
        outcome=outcome,
        team=invitation.team,
        target_type="invitation",
        target_id=str(invitation.pk),
        target_repr=invitation.email,
        detail=detail,
        ip=ip,
    )


@sensitive_variables("code")
def _send_code_email(invitation: Invitation, code: str) -> None:
    context = {"invitation": invitation, "code": code, "minutes": int(CODE_LIFETIME.total_seconds() // 60)}
    send_email_later(
        subject=f"Your code to join {invitation.team.name} on qonadmin",
        body=render_to_string("teams/email/invitation_code.txt", context),
        to=[invitation.email],
    )


@sensitive_variables("code", "password_hash")
def invitation_code_send(
    *, invitation: Invitation, user: User | None, username: str = "", password_hash: str = "", ip: str | None = None
) -> CodeChallenge:
    """Mail a new code to the invited address, for `user` (signed in) or for the new
    account `username` with `password_hash` (signed out). Any earlier code of this
    visitor is replaced by the returned one, which the caller keeps in the session."""
    if not invitation_needs_code(invitation):
        raise MembershipError("This invitation needs no code: the link is enough.")
    challenge_id = secrets.token_urlsafe(12)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    now = timezone.now()
    who = user.get_username() if user is not None else username
    with transaction.atomic():
        locked = _lock_pending(invitation)
        # A fresh link from a team admin starts a fresh count.
        since = max(now - timedelta(hours=1), locked.sent_at)
        if _code_events(locked, "invitation.code_sent").filter(created_at__gte=since).count() >= MAX_CODES_PER_HOUR:
            raise MembershipError(
                f"{MAX_CODES_PER_HOUR} codes were already sent for this invitation in the last hour. "
                "Use the latest one, wait an hour, or ask a team admin to send the invitation again."
            )
        detail = {"challenge": challenge_id, "role": locked.role, "username": who, "new_account": user is None}
        _record_code(locked, action="invitation.code_sent", actor=user, outcome=Outcome.SUCCESS, detail=detail, ip=ip)
    _send_code_email(locked, code)  # sealed and sent by a task, retried if the mail server is down
    return CodeChallenge(
        id=challenge_id,
        invitation_id=locked.pk,
        code_hash=_code_hash(challenge_id, locked.pk, code),
        expires_at=(now + CODE_LIFETIME).timestamp(),
        user_id=user.pk if user is not None else None,
        username=username if user is None else "",
        password_hash=password_hash if user is None else "",
    )


@sensitive_variables("code")
def invitation_code_check(
    *, invitation: Invitation, challenge: CodeChallenge, user: User | None, code: str, ip: str | None = None
) -> CodeCheck:
    """Check a typed code. Right: an `AddressProof` for `invitation_accept` (the caller
    forgets the challenge, so the code works once). Wrong: a refusal, and after
    MAX_WRONG_CODES wrong tries, or once expired, the code is void."""
    if not challenge.belongs_to(invitation, user):
        raise MembershipError("No code is waiting for this invitation. Send a new one.")
    if challenge.void_reason:
        return CodeCheck(None, challenge, _void_message(challenge.void_reason))
    with transaction.atomic():
        locked = _lock_pending(invitation)

        def refuse(reason: str, message: str, *, void: str = "", tries_left: int | None = None) -> CodeCheck:
            detail: dict[str, Any] = {"challenge": challenge.id, "reason": reason}
            if tries_left is not None:
                detail["tries_left"] = tries_left
            _record_code(
                locked, action="invitation.code_failed", actor=user, outcome=Outcome.FAILURE, detail=detail, ip=ip
            )
            kept = replace(challenge, code_hash="", void_reason=void) if void else challenge
            return CodeCheck(None, kept, message)

        if time.time() >= challenge.expires_at:
            return refuse(VOID_EXPIRED, _void_message(VOID_EXPIRED), void=VOID_EXPIRED)
        wrong = _code_events(locked, "invitation.code_failed").filter(detail__challenge=challenge.id).count()
        if wrong >= MAX_WRONG_CODES:  # used up by guesses in parallel
            return CodeCheck(
                None, replace(challenge, code_hash="", void_reason=VOID_TOO_MANY), _void_message(VOID_TOO_MANY)
            )
        if constant_time_compare(_code_hash(challenge.id, locked.pk, code), challenge.code_hash):
            _record_code(
                locked,
                action="invitation.code_confirmed",
                actor=user,
                outcome=Outcome.SUCCESS,
                detail={"challenge": challenge.id},
                ip=ip,
            )
            return CodeCheck(AddressProof(invitation_id=locked.pk), challenge)
        left = MAX_WRONG_CODES - wrong - 1
        if left <= 0:
            return refuse("wrong code", _void_message(VOID_TOO_MANY), void=VOID_TOO_MANY, tries_left=0)
        tries = "1 more try" if left == 1 else f"{left} more tries"
        return refuse(
            "wrong code",
            f"That code is not right. Check the latest email from qonadmin and type its {CODE_DIGITS} digits "
            f"({tries} with this code).",
            tries_left=left,
        )


def _void_message(reason: str) -> str:
    if reason == VOID_EXPIRED:
        minutes = int(CODE_LIFETIME.total_seconds() // 60)
        return f"This code has expired (codes work for {minutes} minutes). Send a new code and enter that one."
    return "Too many wrong codes: this code no longer works. Send a new code and enter that one."


# ---- accepting ---------------------------------------------------------------------------


class UsernameTaken(MembershipError):
    """The username of a new account is taken (perhaps since the form was checked)."""


@sensitive_variables("password_hash")
def invitation_sign_up(
    *,
    invitation: Invitation,
    username: str,
    password_hash: str,
    proof: AddressProof | None = None,
    ip: str | None = None,
) -> User:
    """Create the account an invitation link is used for and join the team, in one
    transaction: if joining fails, no account is left behind. The account gets the
    invited email address. `password_hash` comes from `make_password`."""
    taken = UsernameTaken("A user with that username already exists.")
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise taken
        try:
            with transaction.atomic():
                user = User.objects.create(username=username, email=invitation.email, password=password_hash)
        except IntegrityError:  # created by someone else at the same moment
            raise taken from None
        _join(invitation=invitation, user=user, proof=proof, new_account=True, ip=ip)
    return user


def invitation_accept(
    *, invitation: Invitation, user: User, proof: AddressProof | None = None, ip: str | None = None
) -> Membership:
    """Join the team. Single use: a second use finds the invitation accepted. An admin
    or owner invitation needs the proof that the invited address was read."""
    with transaction.atomic():
        return _join(invitation=invitation, user=user, proof=proof, new_account=False, ip=ip)


def _join(
    *, invitation: Invitation, user: User, proof: AddressProof | None, new_account: bool, ip: str | None
) -> Membership:
    locked = _lock_pending(invitation)
    proved = proof is not None and proof.invitation_id == locked.pk
    if invitation_needs_code(locked) and not proved:
        # A forwarded link may make someone a member, never an admin or owner.
        raise MembershipError(
            f"This {locked.get_role_display().lower()} invitation needs the code we email to the invited address."
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
        detail={
            "role": membership.role,
            "new_member": created,
            "new_account": new_account,
            "email_proved": proved,
            "invitation": locked.pk,
        },
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
        if Role.OWNER in (role, locked.role) and not role_allows(actor_role, Action.MANAGE_OWNERS):
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
        if not leaving_self and not role_allows(actor_role, Action.MANAGE_MEMBERS):
            raise MembershipError("Only admins and owners can remove members.")
        if locked.role == Role.OWNER and not role_allows(actor_role, Action.MANAGE_OWNERS):
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
