"""`seed_demo` gives `make run` something to look at, in every state, and is safe to repeat."""

import pytest
import requests
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from integrations.models import Integration, Status
from teams.models import Membership, Project


@pytest.mark.django_db
def test_it_refuses_outside_demo_mode(settings, sandbox):
    settings.QONADMIN_DEMO = False
    with pytest.raises(CommandError, match="QONADMIN_DEMO"):
        call_command("seed_demo")


@pytest.mark.django_db
def test_it_seeds_every_state_and_is_idempotent(settings, sandbox):
    settings.QONADMIN_DEMO = True
    call_command("seed_demo")
    states = set(Integration.objects.filter(deleted_at__isnull=True).values_list("status", flat=True))
    assert states == {Status.PAUSED, Status.ACTIVE, Status.ERROR}
    assert authenticate(username="demo", password="demo") is not None
    assert Membership.objects.get(user__username="viewer").role == "viewer"
    assert Membership.objects.get(user__username="outsider").team.slug == "globex"
    assert Project.objects.count() == 3
    assert all(p.environment == "sandbox" for p in Project.objects.all())
    counts = (Integration.objects.count(), AuditEvent.objects.count())
    assert counts[0] == 11

    call_command("seed_demo")
    assert (Integration.objects.count(), AuditEvent.objects.count()) == counts


@pytest.mark.django_db
def test_it_seeds_many_integrations_for_benchmarks(settings, sandbox):
    settings.QONADMIN_DEMO = True
    call_command("seed_demo", "--integrations", "30", "--no-simulate")
    assert Integration.objects.filter(project__name="Acme iOS", deleted_at__isnull=True).count() == 36


@pytest.mark.django_db
def test_it_finishes_with_a_notice_when_qonversion_refuses(settings, sandbox, capsys):
    settings.QONADMIN_DEMO = True
    sandbox.add_fault(method="GET", path_prefix="/v4/integrations", status=401, code="control_unauthorized", times=100)
    call_command("seed_demo")
    err = capsys.readouterr().err
    assert (
        "Notice: Acme iOS was not filled with sample integrations: Qonversion rejected this project's key (401)" in err
    )
    assert Project.objects.count() == 3  # teams, users and projects are there; the pages explain the rest
    assert authenticate(username="demo", password="demo") is not None


@pytest.mark.django_db
def test_it_adds_extra_projects_each_with_its_own_sandbox_data_and_is_idempotent(settings, sandbox, sandbox_root):
    settings.QONADMIN_DEMO = True
    call_command("seed_demo", "--projects", "3")
    extra = list(Project.objects.filter(team__slug="acme", name__startswith="Acme Extra").order_by("name"))
    assert [p.name for p in extra] == ["Acme Extra 001", "Acme Extra 002", "Acme Extra 003"]
    assert Project.objects.count() == 6
    keys = [p.secret_key() for p in extra]
    assert len(set(keys)) == 3
    assert len({p.key_hint for p in extra}) == 3  # told apart in the dashboard too
    assert all(p.environment == "sandbox" for p in extra)
    upstream_ids = set()
    for project, key in zip(extra, keys, strict=True):
        live = Integration.objects.filter(project=project, deleted_at__isnull=True)
        assert sorted(live.values_list("status", flat=True)) == sorted([Status.ACTIVE] * 3 + [Status.PAUSED] * 2)
        assert project.synced_at is not None
        listed = requests.get(
            f"{sandbox_root}/v4/integrations", headers={"Authorization": f"Bearer {key}"}, timeout=10
        ).json()["data"]
        assert {item["id"] for item in listed} == set(live.values_list("qonversion_id", flat=True))
        upstream_ids.update(item["id"] for item in listed)
    assert len(upstream_ids) == 15  # nothing shared between the projects
    counts = (Project.objects.count(), Integration.objects.count(), AuditEvent.objects.count())

    call_command("seed_demo", "--projects", "3")
    assert (Project.objects.count(), Integration.objects.count(), AuditEvent.objects.count()) == counts


@pytest.mark.django_db
def test_extra_projects_need_the_sandbox(settings, sandbox):
    settings.QONADMIN_DEMO = True
    settings.QONVERSION_API_BASE = "http://127.0.0.1:9/v4"  # nothing listens there
    with pytest.raises(CommandError, match="--projects needs the sandbox"):
        call_command("seed_demo", "--projects", "2")
    assert not Project.objects.exists()
