"""Creating an integration: an inline HTMX form with a plain-POST fallback."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_htmx.http import trigger_client_event

from integrations.catalog import get_catalog
from integrations.errors import IntegrationError
from integrations.forms import IntegrationCreateForm
from integrations.fragments import CREATE_FORM, CREATE_RESPONSE, list_context
from integrations.services import integration_create
from integrations.views.helpers import current_filters
from qonadmin.http import HtmxHttpRequest, client_ip, signed_in_user
from teams.access import Action, get_project_for_user

FORM_PAGE = "integrations/integration_create.html"
NOTHING_CREATED = "Nothing was created"
# Qonversion may have created it: the same form (same submission key) finishes it safely.
MAY_HAVE_CREATED = (
    "press Create again to finish: this form's key makes Qonversion create it at most once. "
    "The list is refreshed to show it if it was created"
)
EARLIER_ATTEMPT = (
    "Qonversion already handled an earlier attempt of this form, which may have created the integration. "
    "Refresh the list to check; creating again now makes a new one."
)


@login_required
@require_http_methods(["GET", "POST"])
def integration_create_view(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project, access = get_project_for_user(request.user, project_id, Action.OPERATE)
    # HTMX gets the form fragment; without JavaScript it is a page of its own.
    form_template = CREATE_FORM if request.htmx else FORM_PAGE
    context: dict[str, object] = {"project": project, "team": project.team, "access": access}
    try:
        catalog = get_catalog(project)
    except IntegrationError as error:
        message = error.explain(outcome="The form cannot be shown without it", write=False)
        return render(
            request, form_template, {**context, "catalog_error": f"Could not load the provider list: {message}"}
        )

    if request.method == "GET":
        return render(request, form_template, {**context, "form": IntegrationCreateForm(catalog=catalog)})

    form = IntegrationCreateForm(request.POST, catalog=catalog)
    if not form.is_valid():
        return render(request, form_template, {**context, "form": form})
    data = form.cleaned_data
    try:
        integration = integration_create(
            project=project,
            actor=signed_in_user(request),
            title=data["title"],
            provider_slug=data["provider"],
            platform=data["platform"],
            idempotency_key=str(data["idempotency_key"]),
            ip=client_ip(request),
        )
    except IntegrationError as error:
        if error.conflict:
            # The same submission key came back with different input: an earlier attempt of
            # this form reached Qonversion (its answer was lost) and may have created one.
            fresh = request.POST.copy()
            fresh["idempotency_key"] = str(uuid.uuid4())
            form = IntegrationCreateForm(fresh, catalog=catalog)
            form.is_valid()
            return render(request, form_template, {**context, "form": form, "upstream_error": EARLIER_ATTEMPT})
        # Field-level refusals go under their fields; anything else above the buttons.
        matched = form.add_upstream_errors(error.field_errors)
        upstream_error = (
            "" if matched else error.explain(outcome=NOTHING_CREATED, input_kept=True, unknown_next=MAY_HAVE_CREATED)
        )
        response = render(request, form_template, {**context, "form": form, "upstream_error": upstream_error})
        if error.outcome_unknown and request.htmx:
            # Reconcile: the list asks Qonversion what exists now (in its own request).
            trigger_client_event(response, "qonadmin:reconcile")
        return response

    confirmation = (
        f"Created “{integration.title}” ({integration.provider_name}, {integration.platform}). It starts paused."
    )
    if not request.htmx:
        messages.success(request, confirmation)
        return redirect("project_detail", project_id=project.pk)
    # A fresh form (new idempotency key), plus the list with the new row, out of band.
    return render(
        request,
        CREATE_RESPONSE,
        {
            **list_context(project, access, current_filters(request)),
            "form": IntegrationCreateForm(catalog=catalog),
            "confirmation": confirmation,
            "new_integration": integration,
        },
    )
