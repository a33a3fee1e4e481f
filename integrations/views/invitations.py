"""Accepting an invitation: the link from the email, for new and existing users."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from integrations.membership_services import MembershipError, invitation_accept, pending_invitation
from integrations.views.helpers import client_ip

PAGE = "integrations/invitation.html"


class SignUpForm(UserCreationForm[User]):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def invitation_view(request: HttpRequest, token: str) -> HttpResponse:
    invitation = pending_invitation(token)
    if invitation is None:
        return render(request, PAGE, {"invalid": True}, status=404)
    user = request.user
    if user.is_authenticated:
        if request.method == "POST":
            try:
                invitation_accept(invitation=invitation, user=user, ip=client_ip(request))
            except MembershipError as error:
                messages.error(request, str(error))
                return redirect("home")
            messages.success(request, f"Welcome to {invitation.team.name}.")
            return redirect("team_detail", team_slug=invitation.team.slug)
        return render(request, PAGE, {"invitation": invitation})

    # Not signed in: create an account here, or sign in first and come back.
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            new_user = form.save(commit=False)
            new_user.email = invitation.email
            new_user.save()
            try:
                invitation_accept(invitation=invitation, user=new_user, ip=client_ip(request))
            except MembershipError as error:
                transaction.set_rollback(True)
                messages.error(request, str(error))
                return redirect("login")
        login(request, new_user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to {invitation.team.name}, {new_user.get_username()}.")
        return redirect("team_detail", team_slug=invitation.team.slug)
    return render(request, PAGE, {"invitation": invitation, "form": form, "next": request.path})
