"""A team's security page: its owners decide whether two-factor sign-in is required."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts import services, two_factor
from accounts.forms import TeamTwoFactorForm
from qonadmin.http import client_ip, signed_in_user
from teams.access import Action, get_team_for_user, session_is_verified


@login_required
@require_http_methods(["GET", "POST"])
def team_security_view(request: HttpRequest, team_slug: str) -> HttpResponse:
    # Owners only (DELETE_TEAM is theirs alone): outsiders get 404, other roles 403.
    access = get_team_for_user(request.user, team_slug, Action.DELETE_TEAM)
    team = access.team
    user = signed_in_user(request)
    form = TeamTwoFactorForm(
        request.POST if request.method == "POST" else None, initial={"require_two_factor": team.require_two_factor}
    )
    if request.method == "POST" and form.is_valid():
        required = form.cleaned_data["require_two_factor"]
        if required and not session_is_verified(request.user):
            # Otherwise the owner's next click would be sent to set it up anyway.
            form.add_error(None, "Set up two-factor sign-in for your own account first, then require it here.")
        else:
            changed = services.team_set_two_factor_required(
                team=team, actor=user, required=required, ip=client_ip(request)
            )
            if not changed:
                messages.info(request, "Nothing changed.")
            elif required:
                messages.success(request, f"{team.name} now requires two-factor sign-in.")
            else:
                messages.success(request, f"{team.name} no longer requires two-factor sign-in.")
            return redirect("team_security", team_slug=team.slug)
    context = {
        "access": access,
        "team": team,
        "form": form,
        "members": two_factor.members_with_two_factor(team),
        "own_session_verified": session_is_verified(request.user),
    }
    return render(request, "accounts/team_security.html", context)
