"""Read-side queries of the audit log, scoped to what the asking team may see."""

from django.db.models import Q, QuerySet

from audit.models import AuditEvent
from teams.models import Membership, Team

# Events recorded without a team: a person's own sign-in and account events. A team's
# admins see them for their members. Team events whose team was deleted also lose their
# team; they must never show up in another team's log, hence the prefix list.
PERSONAL_ACTION_PREFIXES = ("auth.", "account.")


def team_audit_events(team: Team) -> QuerySet[AuditEvent]:
    """The team's events, plus its members' sign-in and account events."""
    members = Membership.objects.filter(team=team).values("user_id")
    personal = Q()
    for prefix in PERSONAL_ACTION_PREFIXES:
        personal |= Q(action__startswith=prefix)
    return AuditEvent.objects.filter(Q(team=team) | (Q(team__isnull=True, actor_id__in=members) & personal))
