"""Reads for the Alerts page and for sending: a team's channels, its recent deliveries,
and who gets alert email."""

from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet

from alerts.models import AlertChannel, AlertDelivery, EmailAlertMute
from teams.access import Action, roles_allowed
from teams.models import Membership, Team

RECENT_DELIVERIES = 25


def team_channels(team: Team) -> QuerySet[AlertChannel]:
    members = Prefetch("members", queryset=Membership.objects.select_related("user").order_by("user__username"))
    return AlertChannel.objects.filter(team=team).select_related("created_by").prefetch_related(members)


def recent_deliveries(team: Team, *, limit: int = RECENT_DELIVERIES) -> list[AlertDelivery]:
    return list(
        AlertDelivery.objects.filter(team=team)
        .select_related("channel", "change__integration__project")
        .order_by("-created_at", "-pk")[:limit]
    )


def default_recipients(team: Team) -> QuerySet[Membership]:
    """Who gets alert email when the team has no channel: its owners and admins."""
    return Membership.objects.filter(team=team, role__in=roles_allowed(Action.RECEIVE_ERROR_ALERTS))


def email_recipients(*, team: Team, channel: AlertChannel | None) -> list[str]:
    """Addresses for an email alert: the channel's chosen members, or for the team's
    default its owners and admins; minus whoever muted alert email of the team."""
    memberships = default_recipients(team) if channel is None else channel.members.filter(team=team)
    muted = EmailAlertMute.objects.filter(team=team).values("user_id")
    addresses = memberships.exclude(user_id__in=muted).exclude(user__email="").values_list("user__email", flat=True)
    return sorted({address for address in addresses if address})


def is_muted(*, team: Team, user: User) -> bool:
    return EmailAlertMute.objects.filter(team=team, user=user).exists()
