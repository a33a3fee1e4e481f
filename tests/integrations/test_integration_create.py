"""Creating an integration through the HTMX form (and its plain-POST fallback)."""

import re
import time
import uuid

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from integrations.catalog import Catalog, catalog_cache_key, get_catalog
from integrations.clients import client_for_project
from integrations.models import Integration, Status
from integrations.qonversion import Provider, ProviderCategory
from sandbox.control_client import SandboxControl
from teams.models import Project
from tests.conftest import HTMX, SANDBOX_KEY, login


def url(project: Project) -> str:
    return reverse("integration_create", kwargs={"project_id": project.pk})


def form_data(**overrides: str) -> dict[str, str]:
    return {
        "title": "Amplitude — Production iOS",
        "provider": "amplitude",
        "platform": "iOS",
        "idempotency_key": str(uuid.uuid4()),
        **overrides,
    }


def upstream_posts(sandbox: SandboxControl) -> list[dict]:
    return [r for r in sandbox.requests() if r["method"] == "POST" and r["path"] == "/v4/integrations"]


@pytest.mark.django_db
def test_it_opens_the_form_with_labelled_fields_and_grouped_providers(project: Project, owner_client: Client):
    response = owner_client.get(url(project), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # a fragment, not a page
    for label in ("Title", "Provider", "Platform"):
        assert re.search(rf"<(label|legend)[^>]*>\s*{label}\s*</(label|legend)>", html), label
    assert '<optgroup label="Analytics &amp; Marketing">' in html
    assert 'value="searchads" data-stores="iOS"' in html
    assert "Create integration" in html


@pytest.mark.django_db
def test_it_creates_and_returns_the_new_row_with_a_paused_badge(project: Project, owner, sandbox: SandboxControl):
    client = login(owner)
    response = client.post(url(project), form_data(), **HTMX)
    html = response.content.decode()
    integration = Integration.objects.get(project=project)
    assert integration.title == "Amplitude — Production iOS"
    assert integration.provider_name == "Amplitude"
    assert integration.provider_slug == "amplitude"
    assert integration.status == Status.PAUSED
    assert integration.created_by == owner
    # The list comes back out of band with the new row and its badge.
    assert 'id="integration-list" aria-labelledby="integrations-heading" hx-swap-oob="true"' in html
    row = re.search(rf'<tr id="integration-{integration.pk}".*?</tr>', html, re.S)
    assert row is not None
    assert '<span class="badge-label">Paused</span>' in row.group(0)
    # The form is fresh: empty title, a new idempotency key, a confirmation naming it.
    assert 'name="title" id="id_title" value=""' in html
    assert "Created “Amplitude — Production iOS”" in html
    assert [r["idempotency_key"] for r in upstream_posts(sandbox)] != []
    event = AuditEvent.objects.get(action="integration.create")
    assert (event.actor, event.outcome, event.target_id) == (owner, "success", integration.qonversion_id)


@pytest.mark.django_db
def test_it_redirects_with_a_message_without_htmx(project: Project, owner_client: Client):
    response = owner_client.post(url(project), form_data(), follow=True)
    assert response.redirect_chain[-1][0] == reverse("project_detail", kwargs={"project_id": project.pk})
    assert "Created “Amplitude — Production iOS”" in response.content.decode()
    assert Integration.objects.filter(project=project).count() == 1


@pytest.mark.django_db
def test_a_double_submission_creates_one_integration(project: Project, owner_client: Client, sandbox):
    data = form_data()
    owner_client.post(url(project), data, **HTMX)
    owner_client.post(url(project), data, **HTMX)
    assert Integration.objects.filter(project=project).count() == 1
    assert len(upstream_posts(sandbox)) == 2  # both reached Qonversion, which replayed the first
    assert AuditEvent.objects.filter(action="integration.create", outcome="success").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "Give the integration a title."),
        ({"title": "x" * 256}, "title", "255 characters or fewer"),
        ({"provider": "no_such_provider"}, "provider", "Choose a provider from the list."),
        ({"platform": "Windows"}, "platform", "Choose iOS, Android or Stripe."),
        ({"provider": "searchads", "platform": "Android"}, "platform", "Apple Search Ads accepts iOS only."),
    ],
)
def test_it_shows_invalid_input_next_to_the_field_before_calling_upstream(
    project: Project, owner_client: Client, sandbox: SandboxControl, overrides, field, message
):
    owner_client.get(url(project), **HTMX)  # loads the catalog
    sandbox.clear_requests()
    response = owner_client.post(url(project), form_data(**overrides), **HTMX)
    html = response.content.decode()
    assert re.search(rf'id="{field}-errors" class="field-error">[^<]*{re.escape(message)}', html)
    assert upstream_posts(sandbox) == []
    assert not Integration.objects.exists()


@pytest.mark.django_db
def test_it_puts_upstream_field_errors_on_the_fields(project: Project, owner_client: Client, sandbox):
    # The cached catalog still lists a provider that Qonversion has since retired:
    # our form accepts it, Qonversion refuses it, and the refusal lands on "Provider".
    catalog = get_catalog(project)
    retired = ProviderCategory(title="Retired", providers=(Provider("retired_tool", "Retired tool", None),))
    cache.set(catalog_cache_key(project), Catalog(categories=(*catalog.categories, retired)))
    response = owner_client.post(url(project), form_data(provider="retired_tool"), **HTMX)
    html = response.content.decode()
    assert re.search(r'id="provider-errors" class="field-error">Qonversion: [^<]+', html)
    assert 'value="Amplitude — Production iOS"' in html
    assert not Integration.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            {"status": 503, "times": 3},
            "Qonversion had an internal error (503). It may or may not have gone through; your input is kept",
        ),
        (
            {"status": 422, "message": "Title is not allowed here"},
            "Qonversion refused the request: Title is not allowed here. Nothing was created; your input is kept.",
        ),
        ({"status": 429, "retry_after": 0, "times": 3}, "Qonversion is rate limiting requests (429)."),
        ({"drop": True, "times": 3}, "Qonversion closed the connection before answering. It may or may not have gone"),
    ],
)
def test_it_keeps_the_input_and_explains_upstream_failures(
    project: Project, owner_client: Client, sandbox: SandboxControl, settings, fault, expected
):
    settings.QONVERSION_READ_TIMEOUT = 0.3
    owner_client.get(url(project), **HTMX)
    sandbox.add_fault(method="POST", path_prefix="/v4/integrations", **fault)
    data = form_data(title="My precious title", provider="slack", platform="Android")
    response = owner_client.post(url(project), data, **HTMX)
    html = response.content.decode()
    assert expected in html
    assert 'value="My precious title"' in html
    assert 'value="slack" selected' in html
    assert re.search(r'value="Android"[^>]*checked', html)
    assert f'value="{data["idempotency_key"]}"' in html  # a retry reuses the key
    assert not Integration.objects.exists()
    event = AuditEvent.objects.get(action="integration.create")
    assert event.outcome == ("unknown" if "may or may not" in expected else "failure")
    assert event.detail["request"]["title"] == "My precious title"


@pytest.mark.django_db
def test_a_timed_out_create_retried_by_the_user_makes_one_integration(
    project: Project, owner_client: Client, sandbox: SandboxControl, settings
):
    settings.QONVERSION_READ_TIMEOUT = 0.3
    owner_client.get(url(project), **HTMX)
    sandbox.add_fault(method="POST", path_prefix="/v4/integrations", delay=1, times=3)
    data = form_data(title="Slow one")
    html = owner_client.post(url(project), data, **HTMX).content.decode()
    assert "Qonversion did not answer within 0.3 s. It may or may not have gone through" in html
    assert 'value="Slow one"' in html
    # Qonversion did handle the late attempts; the user presses the button again.
    deadline = time.monotonic() + 5
    while len([r for r in upstream_posts(sandbox) if r["status"]]) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    owner_client.post(url(project), data, **HTMX)
    assert list(Integration.objects.values_list("title", flat=True)) == ["Slow one"]
    assert len(client_for_project(project).list_integrations()) == 1


@pytest.mark.django_db
def test_a_lost_answer_then_an_edited_retry_is_explained_not_called_nothing(
    project: Project, owner_client: Client, sandbox: SandboxControl
):
    owner_client.get(url(project), **HTMX)
    # Qonversion creates it, but every answer is lost on the way back.
    sandbox.add_fault(method="POST", path_prefix="/v4/integrations", after=True, drop=True, times=3)
    data = form_data(title="First")
    html = owner_client.post(url(project), data, **HTMX).content.decode()
    assert "It may or may not have gone through; your input is kept" in html
    assert "Nothing was created" not in html
    # The user edits the title and submits the same form again: same key, other input.
    html = owner_client.post(url(project), {**data, "title": "First, renamed"}, **HTMX).content.decode()
    assert "Qonversion already handled an earlier attempt of this form" in html
    assert f'value="{data["idempotency_key"]}"' not in html  # a fresh key: the next submit is a new create
    assert 'value="First, renamed"' in html
    assert [i.title for i in client_for_project(project).list_integrations()] == ["First"]


@pytest.mark.django_db
def test_it_tells_to_replace_a_rejected_key(team, owner_client: Client, sandbox: SandboxControl):
    project = Project(team=team, name="Revoked")
    project.set_secret_key("test_sk_revoked_key_1234")
    project.save()
    # Load the catalog with a good key first: the meta cache is per environment.
    good = Project(team=team, name="Good")
    good.set_secret_key(SANDBOX_KEY)
    good.save()
    owner_client.get(url(good), **HTMX)
    response = owner_client.post(url(project), form_data(), **HTMX)
    assert (
        "Qonversion rejected this project&#x27;s key (401). Nothing was created. Ask a team admin to replace the key."
        in (response.content.decode())
    )


@pytest.mark.django_db
def test_it_explains_when_the_provider_list_cannot_be_loaded(project: Project, owner_client: Client, sandbox):
    sandbox.add_fault(method="GET", path_prefix="/v4/integrations/meta", status=503, times=3)
    response = owner_client.get(url(project), **HTMX)
    assert "Could not load the provider list: Qonversion had an internal error (503)." in response.content.decode()


@pytest.mark.django_db
def test_a_viewer_may_not_create(project: Project, viewer, sandbox: SandboxControl):
    client = login(viewer)
    sandbox.clear_requests()
    assert client.get(url(project), **HTMX).status_code == 403
    assert client.post(url(project), form_data(), **HTMX).status_code == 403
    assert sandbox.requests() == []
    page = client.get(reverse("project_detail", kwargs={"project_id": project.pk})).content.decode()
    assert "New integration" not in page


@pytest.mark.django_db
def test_a_member_may_create(project: Project, member, sandbox):
    response = login(member).post(url(project), form_data(), **HTMX)
    assert response.status_code == 200
    assert Integration.objects.count() == 1


@pytest.mark.django_db
def test_the_form_works_without_javascript(project: Project, owner_client: Client):
    page = owner_client.get(url(project))
    assert "<html" in page.content.decode()
    response = owner_client.post(url(project), form_data(title=""))
    assert "<html" in response.content.decode()
    assert "Give the integration a title." in response.content.decode()
