"""Shared fixtures: a real sandbox per test session, and the healthchecks-style cast
of an owner, a member, a viewer and an outsider."""

from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from sandbox.config import SandboxConfig
from sandbox.control_client import SandboxControl
from sandbox.server import running_sandbox
from teams.models import Membership, Project, Role, Team

SANDBOX_KEY = "test_sk_acme_ios_test_key"


@pytest.fixture(scope="session")
def sandbox_root() -> Iterator[str]:
    with running_sandbox(SandboxConfig(seed=7)) as root:
        yield root


@pytest.fixture
def sandbox(sandbox_root: str, settings: object) -> SandboxControl:
    """The sandbox, emptied, with the dashboard pointed at it."""
    settings.QONVERSION_API_BASE = f"{sandbox_root}/v4"  # type: ignore[attr-defined]
    control = SandboxControl(f"{sandbox_root}/v4")
    control.reset()
    cache.clear()
    return control


def _user(username: str) -> User:
    return User.objects.create_user(username=username, password="password")


@pytest.fixture
def team(db: None) -> Team:
    return Team.objects.create(name="Acme", slug="acme")


@pytest.fixture
def other_team(db: None) -> Team:
    return Team.objects.create(name="Globex", slug="globex")


@pytest.fixture
def make_member(team: Team) -> Callable[[str, str], User]:
    def make(username: str, role: str, member_of: Team | None = None) -> User:
        user = _user(username)
        Membership.objects.create(team=member_of or team, user=user, role=role)
        return user

    return make


@pytest.fixture
def owner(make_member: Callable[[str, str], User]) -> User:
    return make_member("alice", Role.OWNER)


@pytest.fixture
def member(make_member: Callable[[str, str], User]) -> User:
    return make_member("bob", Role.MEMBER)


@pytest.fixture
def viewer(make_member: Callable[[str, str], User]) -> User:
    return make_member("victor", Role.VIEWER)


@pytest.fixture
def outsider(other_team: Team) -> User:
    user = _user("olga")
    Membership.objects.create(team=other_team, user=user, role=Role.OWNER)
    return user


@pytest.fixture
def project(team: Team, sandbox: SandboxControl) -> Project:
    project = Project(team=team, name="Acme iOS")
    project.set_secret_key(SANDBOX_KEY)
    project.save()
    return project


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner: User) -> Client:
    return login(owner)


HTMX = {"HTTP_HX_REQUEST": "true"}
