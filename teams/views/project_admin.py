"""Adding a project, replacing its key, removing it; and deleting a team."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from qonadmin.http import client_ip, signed_in_user
from teams.access import Action, get_project_for_user, get_team_for_user
from teams.forms import ConfirmNameForm, ProjectCreateForm, ReplaceKeyForm
from teams.project_services import ProjectError, project_create, project_delete, project_replace_key, team_delete


@sensitive_post_parameters("secret_key")
@login_required
@require_http_methods(["GET", "POST"])
def project_new_view(request: HttpRequest, team_slug: str) -> HttpResponse:
    access = get_team_for_user(request.user, team_slug, Action.MANAGE_PROJECTS)
    form = ProjectCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(
                team=access.team,
                actor=signed_in_user(request),
                name=form.cleaned_data["name"],
                secret_key=form.cleaned_data["secret_key"],
                ip=client_ip(request),
            )
        except ProjectError as error:
            form.add_error(error.field, str(error))
        else:
            messages.success(
                request, f"Added {project.name} ({project.get_environment_display()}, key {project.key_hint})."
            )
            return redirect("project_detail", project_id=project.pk)
    return render(request, "teams/project_new.html", {"team": access.team, "access": access, "form": form})


@login_required
@require_http_methods(["GET"])
def project_settings_view(request: HttpRequest, project_id: int) -> HttpResponse:
    project, access = get_project_for_user(request.user, project_id, Action.MANAGE_PROJECTS)
    context = {
        "project": project,
        "team": project.team,
        "access": access,
        "key_form": ReplaceKeyForm(),
        "delete_form": ConfirmNameForm(expected=project.name),
    }
    return render(request, "teams/project_settings.html", context)


@sensitive_post_parameters("secret_key")
@login_required
@require_POST
def project_key_view(request: HttpRequest, project_id: int) -> HttpResponse:
    project, access = get_project_for_user(request.user, project_id, Action.MANAGE_PROJECTS)
    form = ReplaceKeyForm(request.POST)
    if form.is_valid():
        before = project.key_hint
        try:
            project_replace_key(
                project=project,
                actor=signed_in_user(request),
                secret_key=form.cleaned_data["secret_key"],
                ip=client_ip(request),
            )
        except ProjectError as error:
            form.add_error(error.field, str(error))
        else:
            messages.success(request, f"Replaced the key of {project.name}: {before} → {project.key_hint}.")
            return redirect("project_settings", project_id=project.pk)
    context = {
        "project": project,
        "team": project.team,
        "access": access,
        "key_form": form,
        "delete_form": ConfirmNameForm(expected=project.name),
    }
    return render(request, "teams/project_settings.html", context, status=200)


@login_required
@require_POST
def project_delete_view(request: HttpRequest, project_id: int) -> HttpResponse:
    project, access = get_project_for_user(request.user, project_id, Action.MANAGE_PROJECTS)
    form = ConfirmNameForm(request.POST, expected=project.name)
    if not form.is_valid():
        context = {
            "project": project,
            "team": project.team,
            "access": access,
            "key_form": ReplaceKeyForm(),
            "delete_form": form,
        }
        return render(request, "teams/project_settings.html", context)
    team_slug, name = project.team.slug, project.name
    project_delete(project=project, actor=signed_in_user(request), ip=client_ip(request))
    messages.success(request, f"Removed {name} from qonadmin. Its integrations in Qonversion were not touched.")
    return redirect("team_detail", team_slug=team_slug)


@login_required
@require_http_methods(["GET", "POST"])
def team_delete_view(request: HttpRequest, team_slug: str) -> HttpResponse:
    access = get_team_for_user(request.user, team_slug, Action.DELETE_TEAM)
    form = ConfirmNameForm(request.POST or None, expected=access.team.name)
    if request.method == "POST" and form.is_valid():
        name = access.team.name
        team_delete(team=access.team, actor=signed_in_user(request), ip=client_ip(request))
        messages.success(request, f"Deleted the team {name}. Its integrations in Qonversion were not touched.")
        return redirect("home")
    return render(request, "teams/team_delete.html", {"team": access.team, "access": access, "form": form})
