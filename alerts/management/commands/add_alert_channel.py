"""Add an alert channel to a team from the command line (ops automation).

    python manage.py add_alert_channel acme webhook https://example.com/hooks/qonadmin
    python manage.py add_alert_channel acme slack https://hooks.slack.com/services/…
    python manage.py add_alert_channel acme email alice,bob@example.com

The same checks as the Alerts page. A webhook's signing secret is printed once.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.views.decorators.debug import sensitive_variables

from alerts.models import AlertChannel, ChannelKind
from alerts.services import AlertError, alert_channel_create
from teams.models import Membership, Team


class Command(BaseCommand):
    help = (
        "Add an alert channel to a team. TARGET: the Slack or webhook URL, or for email the team members "
        "to alert, as comma-separated usernames or email addresses. Prints a webhook's signing secret once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("team_slug", metavar="TEAM_SLUG")
        parser.add_argument("kind", choices=ChannelKind.values)
        parser.add_argument("target", metavar="TARGET")
        parser.add_argument("--label", default="", help="the channel's name (default: its kind, numbered if taken)")

    @sensitive_variables("target", "options")
    def handle(self, *args: Any, **options: Any) -> None:
        team = Team.objects.filter(slug=options["team_slug"]).first()
        if team is None:
            raise CommandError(f"No team with the slug {options['team_slug']!r}.")
        kind: str = options["kind"]
        target: str = options["target"]
        members = _members(team, target) if kind == ChannelKind.EMAIL else []
        label = options["label"] or _free_label(team, ChannelKind(kind).label)
        try:
            created = alert_channel_create(
                team=team,
                actor=None,
                kind=kind,
                label=label,
                url="" if kind == ChannelKind.EMAIL else target,
                members=members,
            )
        except AlertError as error:
            raise CommandError(str(error)) from None
        channel = created.channel
        if kind == ChannelKind.EMAIL:
            to = ", ".join(sorted(m.user.get_username() for m in members))
        else:
            to = channel.target_hint
        self.stdout.write(
            self.style.SUCCESS(
                f"Added the {channel.get_kind_display()} channel “{channel.label}” to {team.name}: {to}."
            )
        )
        if created.secret:
            self.stdout.write("Signing secret (shown this once; alerts carry X-Qonadmin-Signature: sha256=<HMAC>):")
            self.stdout.write(created.secret)


def _members(team: Team, target: str) -> list[Membership]:
    names = [name.strip() for name in target.split(",") if name.strip()]
    if not names:
        raise CommandError("Name at least one team member (username or email address).")
    found: list[Membership] = []
    missing = []
    for name in names:
        query = Q(user__username=name) | Q(user__email__iexact=name) if "@" in name else Q(user__username=name)
        matches = list(Membership.objects.filter(query, team=team).select_related("user"))
        if len(matches) != 1:
            missing.append(name)
        elif matches[0] not in found:
            found.append(matches[0])
    if missing:
        raise CommandError(f"Not exactly one member of {team.name}: {', '.join(missing)}.")
    return found


def _free_label(team: Team, base: str) -> str:
    taken = {label.lower() for label in AlertChannel.objects.filter(team=team).values_list("label", flat=True)}
    if base.lower() not in taken:
        return base
    number = 2
    while f"{base} {number}".lower() in taken:
        number += 1
    return f"{base} {number}"
