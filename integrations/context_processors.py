"""What the layout needs on every page: the user's teams and the error indicator."""

from collections import Counter
from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from integrations.models import Integration, Status
from teams.access import session_is_verified
from teams.models import Team

# The top bar counts integrations in Error up to this many and then says "99+": it runs
# on every page, so it reads at most this many index entries however many are broken
# (the team pages give the exact numbers).
NAV_ERRORS_COUNTED = 99


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def build() -> dict[str, Any]:
        teams = list(Team.objects.filter(memberships__user=user).order_by("name"))
        # A team that requires two-factor sign-in shows nothing of its own to a session
        # that has not passed it, not even how many of its integrations are broken.
        open_teams = [t for t in teams if not t.require_two_factor or session_is_verified(user)]
        broken_in = Counter(
            Integration.objects.filter(project__team__in=open_teams, status=Status.ERROR, deleted_at__isnull=True)
            .order_by()
            .values_list("project__team", flat=True)[: NAV_ERRORS_COUNTED + 1]
        )
        count = sum(broken_in.values())
        # The link goes to the team with the most in error among those counted.
        worst = max(open_teams, key=lambda team: (broken_in[team.pk], -team.pk), default=None)
        return {
            "teams": teams,
            "error_count": count,
            "error_count_text": f"{NAV_ERRORS_COUNTED}+" if count > NAV_ERRORS_COUNTED else str(count),
            "error_team_slug": worst.slug if worst is not None and broken_in[worst.pk] else "",
        }

    # Lazy: fragments that never render the layout cost no queries.
    return {"nav": SimpleLazyObject(build)}
