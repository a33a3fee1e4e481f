"""The circuit breaker per project: after K consecutive failures Qonversion is not called
for that project for a cool-off that grows while it keeps failing; the pages say so and
offer "Try now"; scheduled refreshes respect it; other projects are not affected."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations import breaker
from integrations.qonversion import QonversionServerError, QonversionUnreachable, QonversionValidationError
from sandbox.control_client import SandboxControl
from teams.models import Project
from tests.conftest import HTMX

OTHER_KEY = "test_sk_globex_other_project_key"


@pytest.fixture
def strict_breaker(settings):
    settings.QONADMIN_BREAKER_FAILURES = 2
    settings.QONADMIN_BREAKER_COOLOFF_SECONDS = 60
    settings.QONADMIN_BREAKER_MAX_COOLOFF_SECONDS = 300
    settings.QONVERSION_MAX_RETRIES = 0


def refresh(client: Client, project: Project) -> str:
    return client.post(reverse("project_refresh", kwargs={"project_id": project.pk}), **HTMX).content.decode()


def calls_for(sandbox: SandboxControl, key_hint: str) -> int:
    return len([r for r in sandbox.requests() if r["path"].startswith("/v4") and r["key_hint"] == key_hint])


def test_only_missing_answers_and_5xx_count_as_failures():
    assert breaker.counts_as_failure(QonversionUnreachable("no"))
    assert breaker.counts_as_failure(QonversionServerError("boom", status=503))
    assert not breaker.counts_as_failure(QonversionValidationError("refused", status=422))


def test_the_cooloff_doubles_while_it_keeps_failing_up_to_the_maximum(settings):
    settings.QONADMIN_BREAKER_FAILURES = 3
    settings.QONADMIN_BREAKER_COOLOFF_SECONDS = 30
    settings.QONADMIN_BREAKER_MAX_COOLOFF_SECONDS = 100
    assert [breaker.cooloff(n).total_seconds() for n in (3, 4, 5, 6, 99)] == [30, 60, 100, 100, 100]


@pytest.mark.django_db
def test_it_opens_after_k_failures_and_then_sends_nothing(
    project: Project, owner_client: Client, sandbox: SandboxControl, strict_breaker
):
    sandbox.add_fault(method="GET", status=503, times=10)
    refresh(owner_client, project)
    project.refresh_from_db()
    assert not project.upstream_paused  # one failure is not enough
    html = refresh(owner_client, project)
    project.refresh_from_db()
    assert project.upstream_paused
    until = project.upstream_paused_until
    assert until is not None and until - timezone.now() > timedelta(seconds=55)
    assert f"Qonversion is not answering for this project; next try at {until:%H:%M} UTC" in html
    assert ">Try now</button>" in html
    sent = calls_for(sandbox, "test_sk_…_key")
    # While it is open: no call for refreshes, actions, creates or the provider list.
    refresh(owner_client, project)
    page = owner_client.get(reverse("project_detail", kwargs={"project_id": project.pk})).content.decode()
    assert "Qonversion is not answering for this project" in page
    form = owner_client.get(reverse("integration_create", kwargs={"project_id": project.pk}), **HTMX)
    assert "Qonversion is not answering for this project" in form.content.decode()
    assert calls_for(sandbox, "test_sk_…_key") == sent
    team = owner_client.get(reverse("team_detail", kwargs={"team_slug": project.team.slug})).content.decode()
    assert "Qonversion is not answering for this project; next try at" in team
    assert "Try now" in team


@pytest.mark.django_db
def test_try_now_calls_at_once_and_a_success_closes_it(
    project: Project, owner_client: Client, sandbox: SandboxControl, strict_breaker
):
    sandbox.add_fault(method="GET", status=503, times=2)
    refresh(owner_client, project)
    refresh(owner_client, project)
    project.refresh_from_db()
    assert project.upstream_paused
    html = owner_client.post(reverse("project_try_now", kwargs={"project_id": project.pk}), **HTMX).content.decode()
    assert "Qonversion is not answering" not in html
    project.refresh_from_db()
    assert (project.upstream_failures, project.upstream_paused_until) == (0, None)
    assert project.sync_error == ""


@pytest.mark.django_db
def test_a_failed_trial_reopens_it_for_twice_as_long(
    project: Project, owner_client: Client, sandbox: SandboxControl, strict_breaker
):
    sandbox.add_fault(method="GET", status=503, times=3)
    refresh(owner_client, project)
    refresh(owner_client, project)
    owner_client.post(reverse("project_try_now", kwargs={"project_id": project.pk}), **HTMX)
    project.refresh_from_db()
    assert project.upstream_failures == 3
    remaining = (project.upstream_paused_until - timezone.now()).total_seconds()
    assert 115 < remaining <= 120


@pytest.mark.django_db
def test_one_projects_breaker_never_affects_another(
    project: Project, owner_client: Client, sandbox: SandboxControl, strict_breaker
):
    other = Project(team=project.team, name="Other")
    other.set_secret_key(OTHER_KEY)
    other.save()
    sandbox.create_external(key=OTHER_KEY, title="Still fine", integration="slack", target_platform="iOS")
    Project.objects.filter(pk=project.pk).update(
        upstream_failures=5, upstream_paused_until=timezone.now() + timedelta(minutes=5)
    )
    html = refresh(owner_client, other)
    assert "Still fine" in html
    assert "Qonversion is not answering" not in html


@pytest.mark.django_db
def test_scheduled_refreshes_skip_a_project_whose_breaker_is_open(
    project: Project, sandbox: SandboxControl, strict_breaker
):
    Project.objects.filter(pk=project.pk).update(
        upstream_failures=5, upstream_paused_until=timezone.now() + timedelta(minutes=5)
    )
    call_command("sync_integrations")
    assert calls_for(sandbox, "test_sk_…_key") == 0
    Project.objects.filter(pk=project.pk).update(upstream_paused_until=timezone.now() - timedelta(seconds=1))
    call_command("sync_integrations")
    assert calls_for(sandbox, "test_sk_…_key") > 0  # cool-off over: the trial call
