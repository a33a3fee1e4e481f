"""Telling people when an integration breaks.

A refresh that sees an integration go into Error (Qonversion's delivery worker
suspended it) records it in the audit log and emails the team's owners and
admins, once per transition: the mirror remembers the state, so the next refresh
does not alert again.
"""

import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from audit.models import Outcome
from integrations.history import record_for_integration
from integrations.models import Integration, IntegrationChange
from teams.access import Action, roles_allowed
from teams.models import Membership, Project

logger = logging.getLogger(__name__)


def alert_recipients(project: Project) -> list[str]:
    roles = roles_allowed(Action.RECEIVE_ERROR_ALERTS)
    return sorted(
        {
            email
            for email in Membership.objects.filter(team_id=project.team_id, role__in=roles)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
            if email
        }
    )


def integrations_broke(*, project: Project, integrations: Sequence[Integration]) -> None:
    for integration in integrations:
        record_for_integration(
            integration,
            action="integration.error_detected",
            actor=None,
            outcome=Outcome.FAILURE,
            detail={
                "last_error_message": integration.last_error_message,
                "delivery_error_count": integration.delivery_error_count,
            },
        )
    recipients = alert_recipients(project)
    names = ", ".join(f"“{i.title}”" for i in integrations)
    logger.warning("project %s: integrations went into Error: %s", project.pk, names)
    if not recipients:
        return
    count = len(integrations)
    # One line whatever the project is called: mail headers cannot hold line breaks.
    subject = " ".join(f"[qonadmin] {count} integration{'s' if count > 1 else ''} in Error in {project.name}".split())
    body = render_to_string(
        "alerts/integrations_broke.txt",
        {"project": project, "integrations": integrations, "base_url": settings.QONADMIN_BASE_URL},
    )
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:
        # The state is on every page and in the audit log; a mail failure of any kind
        # must not break the refresh that noticed it.
        logger.exception("could not send the error alert for project %s", project.pk)


def transitions_recorded(*, changes: Sequence[IntegrationChange]) -> None:
    """Integrations entered Error or recovered from it (history rows, committed): each
    becomes one alert per channel. Alert channels hook in here."""
