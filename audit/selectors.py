"""Read-side queries of the audit log, scoped to what the asking team may see."""

from django.db.models import Q, QuerySet

from audit.models import AuditEvent
from teams.models import Membership, Team

# Events recorded without a team: a person's own sign-in and account events, which a
# team's admins see for their members, and site-wide ones (`admin.*`, changes made in
# Django admin), which no team sees. A deleted team's events keep its id, which the
# database never gives to another team; events of teams deleted while the old rule set
# their team to NULL have none, and the prefix list keeps them out of every log.
PERSONAL_ACTION_PREFIXES = ("auth.", "account.")


def team_audit_events(team: Team) -> QuerySet[AuditEvent]:
    """The team's events, plus its members' sign-in and account events."""
    members = Membership.objects.filter(team=team).values("user_id")
    personal = Q()
    for prefix in PERSONAL_ACTION_PREFIXES:
        personal |= Q(action__startswith=prefix)
    return AuditEvent.objects.filter(Q(team=team) | (Q(team__isnull=True, actor_id__in=members) & personal))
