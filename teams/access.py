"""The one door to every team, project and integration.

Not a member of the owning team: 404, so outsiders cannot even learn that a thing
exists. A member whose role does not allow the action: 403.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404

from teams.models import Membership, Project, Role, Team


class Action(StrEnum):
    VIEW = "view"
    OPERATE = "operate"  # create, pause/resume, delete integrations
    MANAGE_PROJECTS = "manage_projects"  # add projects, replace keys
    MANAGE_MEMBERS = "manage_members"
    MANAGE_ALERTS = "manage_alerts"  # add, test and remove the team's alert channels
    MANAGE_OWNERS = "manage_owners"  # make or unmake owners
    RECEIVE_ERROR_ALERTS = "receive_error_alerts"  # emailed when an integration breaks
    DELETE_TEAM = "delete_team"  # and the team's security settings


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.VIEWER: frozenset({Action.VIEW}),
    Role.MEMBER: frozenset({Action.VIEW, Action.OPERATE}),
    Role.ADMIN: frozenset(
        {
            Action.VIEW,
            Action.OPERATE,
            Action.MANAGE_PROJECTS,
            Action.MANAGE_MEMBERS,
            Action.MANAGE_ALERTS,
            Action.RECEIVE_ERROR_ALERTS,
        }
    ),
    Role.OWNER: frozenset(Action),
}

type User = AbstractBaseUser | AnonymousUser


def role_allows(role: str, action: Action) -> bool:
    return action in ROLE_ACTIONS.get(role, frozenset())


def roles_allowed(action: Action) -> frozenset[str]:
    """Every role that may do `action`, for queries ("the team's admins and owners")."""
    return frozenset(role for role, actions in ROLE_ACTIONS.items() if action in actions)


@dataclass(frozen=True)
class TeamAccess:
    """A team as seen by one member: what they may do there."""

    team: Team
    role: str

    def can(self, action: Action | str) -> bool:
        return role_allows(self.role, Action(action))

    @property
    def can_operate(self) -> bool:
        return self.can(Action.OPERATE)

    @property
    def can_manage_projects(self) -> bool:
        return self.can(Action.MANAGE_PROJECTS)

    @property
    def can_manage_members(self) -> bool:
        return self.can(Action.MANAGE_MEMBERS)

    @property
    def can_delete_team(self) -> bool:
        return self.can(Action.DELETE_TEAM)


def memberships_for_user(user: User) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user_id=user.pk).select_related("team").order_by("team__name")


class TwoFactorRequired(Exception):
    """The team requires two-factor sign-in and this session has not passed it.

    accounts.middleware turns it into a redirect to the one-time-code step."""

    def __init__(self, team: Team) -> None:
        super().__init__(f"{team} requires two-factor sign-in")
        self.team = team


def session_is_verified(user: User) -> bool:
    # django-otp's middleware gives the request's user an is_verified() method.
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else False


def _access(user: User, team: Team, role: str | None, action: Action) -> TeamAccess:
    """What every way in answers, in this order: 404 for an outsider (no role), the
    two-factor step, then 403 for a role that may not do `action`."""
    if role is None:
        raise Http404
    if team.require_two_factor and not session_is_verified(user):
        raise TwoFactorRequired(team)
    if not role_allows(role, action):
        raise PermissionDenied(f"Your role ({Role(role).label}) may not do this in {team}.")
    return TeamAccess(team=team, role=role)


def get_team_for_user(user: User, slug: str, action: Action = Action.VIEW) -> TeamAccess:
    team = Team.objects.filter(slug=slug).first()
    if team is None or not user.is_authenticated:
        raise Http404
    role = Membership.objects.filter(user_id=user.pk, team=team).values_list("role", flat=True).first()
    return _access(user, team, role, action)


def get_project_for_user(user: User, project_id: int, action: Action = Action.VIEW) -> tuple[Project, TeamAccess]:
    """The project, its team and the user's role there, in one query (every project page
    and action starts here); answered as every way in is (`_access`)."""
    if not user.is_authenticated:
        raise Http404
    role = Membership.objects.filter(user_id=user.pk, team_id=OuterRef("team_id")).values("role")[:1]
    project = Project.objects.select_related("team").annotate(member_role=Subquery(role)).filter(pk=project_id).first()
    if project is None:
        raise Http404
    return project, _access(user, project.team, project.member_role, action)
