"""Team members and invitations (admins and owners)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from qonadmin.http import client_ip, signed_in_user
from teams.access import Action, get_team_for_user
from teams.forms import InviteForm, RoleForm
from teams.membership_services import (
    LinkBuilder,
    MembershipError,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    member_change_role,
    member_remove,
)
from teams.models import Invitation, Membership, Role
from teams.selectors import team_invitations, team_members

PAGE = "teams/members.html"


def link_builder(request: HttpRequest) -> LinkBuilder:
    return LinkBuilder(request.build_absolute_uri("/"))


@login_required
@require_http_methods(["GET", "POST"])
def team_members_view(request: HttpRequest, team_slug: str) -> HttpResponse:
    """Everyone may see who is in the team; only admins and owners change it."""
    access = get_team_for_user(
        request.user, team_slug, Action.MANAGE_MEMBERS if request.method == "POST" else Action.VIEW
    )
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sent = invitation_create(
                team=access.team,
                actor=signed_in_user(request),
                actor_role=access.role,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                link_for=link_builder(request),
                ip=client_ip(request),
            )
        except MembershipError as error:
            form.add_error("email", str(error))
        else:
            messages.success(request, f"Invitation sent to {sent.invitation.email}. The link works once, for 7 days.")
            return redirect("team_members", team_slug=access.team.slug)
    context = {
        "team": access.team,
        "access": access,
        "members": list(team_members(access.team)),
        "invitations": list(team_invitations(access.team)) if access.can_manage_members else [],
        "invite_form": form,
        "roles": Role.choices,
    }
    return render(request, PAGE, context)


def _membership(team_id: int, membership_id: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user", "team"), pk=membership_id, team_id=team_id)


def _invitation(team_id: int, invitation_id: int) -> Invitation:
    return get_object_or_404(Invitation.objects.select_related("team"), pk=invitation_id, team_id=team_id)


@login_required
@require_POST
def member_role_view(request: HttpRequest, team_slug: str, membership_id: int) -> HttpResponse:
    access = get_team_for_user(request.user, team_slug, Action.MANAGE_MEMBERS)
    membership = _membership(access.team.pk, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose owner, admin, member or viewer.")
    else:
        try:
            member_change_role(
                membership=membership,
                actor=signed_in_user(request),
                role=form.cleaned_data["role"],
                ip=client_ip(request),
            )
        except MembershipError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"{membership.user.get_username()} is now {form.cleaned_data['role']}.")
    return redirect("team_members", team_slug=access.team.slug)


@login_required
@require_POST
def member_remove_view(request: HttpRequest, team_slug: str, membership_id: int) -> HttpResponse:
    user = signed_in_user(request)
    access = get_team_for_user(request.user, team_slug)
    membership = _membership(access.team.pk, membership_id)
    leaving_self = membership.user_id == user.pk
    if not leaving_self:
        access = get_team_for_user(request.user, team_slug, Action.MANAGE_MEMBERS)
    try:
        member_remove(membership=membership, actor=user, ip=client_ip(request))
    except MembershipError as error:
        messages.error(request, str(error))
        return redirect("team_members", team_slug=access.team.slug)
    if leaving_self:
        messages.success(request, f"You left {access.team.name}.")
        return redirect("home")
    messages.success(request, f"Removed {membership.user.get_username()} from {access.team.name}.")
    return redirect("team_members", team_slug=access.team.slug)


@login_required
@require_POST
def invitation_resend_view(request: HttpRequest, team_slug: str, invitation_id: int) -> HttpResponse:
    access = get_team_for_user(request.user, team_slug, Action.MANAGE_MEMBERS)
    invitation = _invitation(access.team.pk, invitation_id)
    try:
        invitation_resend(
            invitation=invitation,
            actor=signed_in_user(request),
            actor_role=access.role,
            link_for=link_builder(request),
            ip=client_ip(request),
        )
    except MembershipError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Sent a new link to {invitation.email}; the old one no longer works.")
    return redirect(reverse("team_members", kwargs={"team_slug": access.team.slug}))


@login_required
@require_POST
def invitation_revoke_view(request: HttpRequest, team_slug: str, invitation_id: int) -> HttpResponse:
    access = get_team_for_user(request.user, team_slug, Action.MANAGE_MEMBERS)
    invitation = _invitation(access.team.pk, invitation_id)
    try:
        invitation_revoke(invitation=invitation, actor=signed_in_user(request), ip=client_ip(request))
    except MembershipError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Revoked the invitation for {invitation.email}.")
    return redirect("team_members", team_slug=access.team.slug)
