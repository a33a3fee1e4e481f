"""Titles and upstream error messages are text, never markup: whatever they hold (any
length the contract allows, any Unicode category, HTML, template syntax, bidi and
zero-width characters), every page that shows them shows them escaped.

One property writes mirror rows directly (cheap, so many examples); the other takes the
real way in: the sandbox, the client, a refresh, then the pages.
"""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import Truncator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import Integration, Status
from integrations.sync import project_sync
from sandbox.control_client import SandboxControl
from teams.models import Project
from tests.conftest import HTMX, SANDBOX_KEY, login

PAGES = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,  # no example database in the work tree; runs are reproducible by seed
    derandomize=True,
)
TITLE_MAX = 255
ROW_MESSAGE_CHARS = 80  # truncatechars on the project page's row
TEAM_MESSAGE_CHARS = 120  # and on the team page's "In error now"

# Markup and template syntax that must come out as text. Bidi overrides and zero-width
# characters ride along: they are shown as they are, inside escaped text.
MARKUP = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "'-alert(1)-'",
    "</td></tr></table><h1>Owned</h1>",
    "<!-- comment -->",
    "&lt;b&gt;already escaped&lt;/b&gt;",
    "&amp;&quot;&#39;",
    "{{ request.user.password }}",
    "{% csrf_token %}{% debug %}",
    "{# hidden #}",
    "\"quoted\" & 'single'",
    "\u202e<b>reversed</b>\u202c",
    "\u2066<i>isolated</i>\u2069",
    "zero\u200bwidth\u200d<u>join</u>\ufeff",
]
# Every category but surrogates (JSON cannot carry them) and NUL (PostgreSQL text cannot).
ANY_CHARACTER = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")


@st.composite
def texts_with_markup(draw: st.DrawFn, max_size: int) -> str:
    markup = draw(st.sampled_from(MARKUP))
    room = (max_size - len(markup)) // 2
    return draw(st.text(ANY_CHARACTER, max_size=room)) + markup + draw(st.text(ANY_CHARACTER, max_size=room))


titles = (
    texts_with_markup(TITLE_MAX)
    | st.text(ANY_CHARACTER, min_size=1, max_size=TITLE_MAX)
    | st.text(ANY_CHARACTER, min_size=TITLE_MAX, max_size=TITLE_MAX)
)
messages = texts_with_markup(600) | st.text(ANY_CHARACTER, min_size=1, max_size=600)


def assert_shown_as_text(html: str, shown: str) -> None:
    """`shown` (what the template prints) appears escaped, and none of its markup raw."""
    assert escape(shown) in html
    for markup in MARKUP:
        if markup in shown and escape(markup) != markup:
            assert markup not in html, markup


class Pages:
    """The three places a title and an error message are shown, as a signed-in member."""

    def __init__(self, client: Client, project: Project) -> None:
        self.client = client
        self.project = project

    def get(self, url: str, **headers: str) -> str:
        response = self.client.get(url, **headers)
        assert response.status_code == 200
        return response.content.decode()

    def check(self, integration: Integration) -> None:
        title, message = integration.title, integration.last_error_message
        detail_url = reverse(
            "integration_detail", kwargs={"project_id": self.project.pk, "integration_id": integration.pk}
        )
        project_page = self.get(reverse("project_detail", kwargs={"project_id": self.project.pk}))
        assert_shown_as_text(project_page, title)
        assert_shown_as_text(project_page, Truncator(message).chars(ROW_MESSAGE_CHARS))

        details = self.get(detail_url, **HTMX)  # the fragment a row expands into
        assert_shown_as_text(details, message)
        detail_page = self.get(detail_url)
        assert_shown_as_text(detail_page, title)
        assert_shown_as_text(detail_page, message)

        team_page = self.get(reverse("team_detail", kwargs={"team_slug": self.project.team.slug}))
        assert_shown_as_text(team_page, title)
        assert_shown_as_text(team_page, Truncator(message).chars(TEAM_MESSAGE_CHARS))


@pytest.fixture
def pages(project: Project, member: User) -> Pages:
    return Pages(login(member), project)


@pytest.mark.django_db
@PAGES
@given(title=titles, message=messages)
def test_mirror_rows_are_shown_as_text(project: Project, pages: Pages, title: str, message: str) -> None:
    now = timezone.now()
    Project.objects.filter(pk=project.pk).update(synced_at=now)  # the page shows the mirror, no sync
    integration, _ = Integration.objects.update_or_create(
        project=project,
        qonversion_id="fuzz0001",
        defaults={
            "title": title,
            "provider_name": "Webhooks",
            "platform": "iOS",
            "status": Status.ERROR,  # so the team page lists it, with its message
            "last_error_message": message,
            "last_error_at": now,
            "delivery_error_count": 5,
            "upstream_created_at": now,
            "upstream_updated_at": now,
        },
    )
    pages.check(integration)


@pytest.mark.django_db
@settings(PAGES, max_examples=15)
@given(title=titles, message=messages)
def test_upstream_text_is_shown_as_text(
    project: Project, pages: Pages, sandbox: SandboxControl, title: str, message: str
) -> None:
    # What the form and Qonversion both do with a title: surrounding whitespace goes.
    stored_title = title.strip() or "x"
    sandbox.reset()
    created = sandbox.create_external(
        key=SANDBOX_KEY, title=stored_title, integration="webhooks", target_platform="iOS", active=1
    )
    sandbox.deliveries(key=SANDBOX_KEY, integration_id=created["id"], outcome="failure", count=5, message=message)
    project_sync(project=project)
    integration = Integration.objects.get(project=project, qonversion_id=created["id"])
    assert integration.status == Status.ERROR
    pages.check(integration)
