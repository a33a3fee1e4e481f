"""Read-side queries of a team: its members and open invitations."""

from django.db.models import QuerySet

from teams.models import Invitation, Membership, Team


def team_members(team: Team) -> QuerySet[Membership]:
    return Membership.objects.filter(team=team).select_related("user").order_by("user__username")


def team_invitations(team: Team) -> QuerySet[Invitation]:
    """Invitations not yet accepted, newest first (pending, expired and revoked)."""
    return Invitation.objects.filter(team=team, accepted_at__isnull=True).select_related("invited_by")
