"""The list's rows stay small: their Pause/Activate buttons share one form (its CSRF field
and return path) instead of carrying one each, and still work without JavaScript."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.models import Integration, Status
from qonadmin.times import ago
from teams.models import Project
from tests.conftest import login
from tests.factories import make_integration
from tests.integrations.test_project_page import seed_rows


def page_url(project: Project) -> str:
    return reverse("project_detail", kwargs={"project_id": project.pk})


def shared_form_fields(html: str) -> dict[str, str]:
    form = re.search(r'<form id="row-action" method="post" hidden>(.*?)</form>', html, re.S)
    assert form is not None, "the list has no shared row-action form"
    return {name: unescape(value) for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(1))}


@pytest.mark.django_db
def test_the_page_carries_one_csrf_field_per_form_not_per_row(project: Project, owner_client: Client):
    seed_rows(project, 3)
    few = owner_client.get(page_url(project)).content.decode()
    more = [
        Integration(
            project=project,
            qonversion_id=f"more{n}",
            title=f"More {n}",
            provider_name="Slack",
            platform="iOS",
            status=Status.ACTIVE,
            upstream_created_at=project.created_at,
            upstream_updated_at=project.created_at,
        )
        for n in range(60)
    ]
    Integration.objects.bulk_create(more)
    many = owner_client.get(page_url(project)).content.decode()
    assert many.count('<tr id="integration-') == 63
    assert many.count('name="csrfmiddlewaretoken"') == few.count('name="csrfmiddlewaretoken"')
    assert many.count("<form") == few.count("<form")
    # Every row's button names the shared form and its own action.
    assert many.count('form="row-action"') == 63


@pytest.mark.django_db
def test_pause_without_javascript_submits_the_shared_form_to_the_rows_address(
    project: Project, owner: User, sandbox: object
):
    integration = make_integration(project, owner, "Amplitude prod", active=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    html = client.get(page_url(project) + "?platform=iOS").content.decode()
    button = re.search(r'<button [^>]*formaction="([^"]+)"[^>]*name="status" value="(\w+)"[^>]*>Pause</button>', html)
    assert button is not None
    action, value = button.groups()
    assert action == reverse("integration_status", kwargs={"project_id": project.pk, "integration_id": integration.pk})
    # What a browser sends: the shared form's fields plus the pressed button's name and value.
    fields = shared_form_fields(html)
    assert fields["next"] == page_url(project) + "?platform=iOS"
    response = client.post(action, {**fields, "status": value})
    assert response.status_code == 302
    assert response["Location"] == page_url(project) + "?platform=iOS"
    integration.refresh_from_db()
    assert integration.status == Status.PAUSED


@pytest.mark.django_db
def test_a_viewer_gets_no_row_buttons_and_no_shared_form(project: Project, viewer: User):
    seed_rows(project, 3)
    html = login(viewer).get(page_url(project)).content.decode()
    assert html.count('<tr id="integration-') == 3
    assert 'id="row-action"' not in html
    assert 'form="row-action"' not in html


@pytest.mark.parametrize("naive", [False, True])
def test_row_times_read_as_naturaltime_does(naive: bool):
    # Half a second off each whole second: both sides see the same count even if the
    # clock ticks between the two calls.
    now = timezone.now() if not naive else timezone.now().replace(tzinfo=None)
    seconds = [*range(0, 130), *range(130, 86_400 * 3, 97), 86_399, 86_400, 86_401]
    for offset in seconds:
        for direction in (1, -1):
            value = now - direction * timedelta(seconds=offset, milliseconds=500)
            if naive:
                value = value.replace(tzinfo=None)
            assert ago(value) == str(naturaltime(value)), (offset, direction)
