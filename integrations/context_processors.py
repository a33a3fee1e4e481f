"""What the layout needs on every page: the user's teams and the error indicator."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from integrations.models import Integration, Status
from teams.access import session_is_verified
from teams.models import Team


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def build() -> dict[str, Any]:
        teams = list(Team.objects.filter(memberships__user=user).order_by("name"))
        # A team that requires two-factor sign-in shows nothing of its own to a session
        # that has not passed it, not even how many of its integrations are broken.
        open_teams = [t for t in teams if not t.require_two_factor or session_is_verified(user)]
        in_error = Integration.objects.filter(
            project__team__in=open_teams, status=Status.ERROR, deleted_at__isnull=True
        ).order_by("-last_error_at")
        first = in_error.values_list("project__team__slug", flat=True).first()
        return {"teams": teams, "error_count": in_error.count(), "error_team_slug": first}

    # Lazy: fragments that never render the layout cost no queries.
    return {"nav": SimpleLazyObject(build)}
