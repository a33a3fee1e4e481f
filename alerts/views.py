"""The team's Alerts page: channels (admins and owners manage them), recent deliveries,
and each member's own switch for alert email."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from alerts.forms import ChannelForm, EnabledForm, MuteForm
from alerts.models import AlertChannel, AlertDelivery, ChannelKind, DeliveryStatus
from alerts.selectors import default_recipients, is_muted, recent_deliveries, team_channels
from alerts.services import (
    AlertError,
    alert_channel_create,
    alert_channel_remove,
    alert_channel_set_enabled,
    alert_channel_test,
    email_alerts_mute,
)
from qonadmin.http import client_ip, signed_in_user
from teams.access import Action, TeamAccess, get_team_for_user

PAGE = "alerts/alerts.html"
DELIVERIES = "alerts/deliveries.html"


def _queued(deliveries: list[AlertDelivery]) -> bool:
    """Some alert waits for its first try (a worker picks it up in seconds): the list
    refreshes itself until it is done."""
    return any(d.status == DeliveryStatus.PENDING and d.attempts == 0 for d in deliveries)


def _page_context(request: HttpRequest, access: TeamAccess, **extra: Any) -> dict[str, Any]:
    team = access.team
    can_manage = access.can(Action.MANAGE_ALERTS)
    channels = list(team_channels(team))
    forms = {kind: ChannelForm(team=team, kind=kind) for kind in ChannelKind.values} if can_manage else {}
    forms.update(extra.pop("forms", {}))
    deliveries = recent_deliveries(team)
    return {
        "team": team,
        "access": access,
        "can_manage_alerts": can_manage,
        "channels": channels,
        "channels_on": [channel for channel in channels if channel.enabled],
        "default_recipients": list(default_recipients(team).select_related("user").order_by("user__username")),
        "deliveries": deliveries,
        "deliveries_queued": _queued(deliveries),
        "muted": is_muted(team=team, user=signed_in_user(request)),
        "email_form": forms.get(ChannelKind.EMAIL),
        "slack_form": forms.get(ChannelKind.SLACK),
        "webhook_form": forms.get(ChannelKind.WEBHOOK),
        **extra,
    }


@sensitive_post_parameters("url")
@login_required
@require_http_methods(["GET", "POST"])
def team_alerts_view(request: HttpRequest, team_slug: str) -> HttpResponse:
    """Every member sees the page; only admins and owners add channels (POST)."""
    access = get_team_for_user(
        request.user, team_slug, Action.MANAGE_ALERTS if request.method == "POST" else Action.VIEW
    )
    if request.method == "GET":
        if request.GET.get("fragment") == "deliveries":
            deliveries = recent_deliveries(access.team)
            context = {"team": access.team, "deliveries": deliveries, "deliveries_queued": _queued(deliveries)}
            return render(request, DELIVERIES, context)
        return render(request, PAGE, _page_context(request, access))
    kind = request.POST.get("kind", "")
    if kind not in ChannelKind.values:
        messages.error(request, "Choose email, Slack or webhook.")
        return render(request, PAGE, _page_context(request, access), status=400)
    form = ChannelForm(request.POST, team=access.team, kind=kind)
    if form.is_valid():
        try:
            created = alert_channel_create(
                team=access.team,
                actor=signed_in_user(request),
                kind=kind,
                label=form.cleaned_data["label"],
                url=form.cleaned_data["url"],
                members=list(form.cleaned_data["members"]),
                ip=client_ip(request),
            )
        except AlertError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            channel = created.channel
            if created.secret:
                # Shown in this response only (never stored readable, never put in a message
                # cookie): the admin copies it into the receiving end now.
                messages.success(request, f"Added the webhook channel “{channel.label}”.")
                context = _page_context(request, access, new_channel=channel, new_secret=created.secret)
                return render(request, PAGE, context)
            messages.success(request, f"Added the {channel.get_kind_display()} channel “{channel.label}”.")
            return redirect("team_alerts", team_slug=access.team.slug)
    return render(request, PAGE, _page_context(request, access, forms={kind: form}, open_kind=kind))


def _channel(request: HttpRequest, access: TeamAccess) -> AlertChannel:
    """The team's channel named by the form's `channel` field; 404 for anything else."""
    try:
        channel_id = int(request.POST.get("channel", ""))
    except ValueError:
        raise Http404 from None
    channel = AlertChannel.objects.select_related("team").filter(pk=channel_id, team=access.team).first()
    if channel is None:
        raise Http404
    return channel


@login_required
@require_POST
def team_alert_channel_test_view(request: HttpRequest, team_slug: str) -> HttpResponse:
    access = get_team_for_user(request.user, team_slug, Action.MANAGE_ALERTS)
    channel = _channel(request, access)
    alert_channel_test(channel=channel, actor=signed_in_user(request), ip=client_ip(request))
    messages.success(request, f"Test alert to “{channel.label}” queued; its result shows under Recent alerts.")
    return redirect("team_alerts", team_slug=access.team.slug)


@login_required
@require_POST
def team_alert_channel_enabled_view(request: HttpRequest, team_slug: str) -> HttpResponse:
    access = get_team_for_user(request.user, team_slug, Action.MANAGE_ALERTS)
    channel = _channel(request, access)
    form = EnabledForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose on or off.")
    else:
        enabled = form.cleaned_data["enabled"]
        alert_channel_set_enabled(
            channel=channel, actor=signed_in_user(request), enabled=enabled, ip=client_ip(request)
        )
        messages.success(request, f"“{channel.label}” is {'on' if enabled else 'off'}.")
    return redirect("team_alerts", team_slug=access.team.slug)


@login_required
@require_POST
def team_alert_channel_remove_view(request: HttpRequest, team_slug: str) -> HttpResponse:
    access = get_team_for_user(request.user, team_slug, Action.MANAGE_ALERTS)
    channel = _channel(request, access)
    alert_channel_remove(channel=channel, actor=signed_in_user(request), ip=client_ip(request))
    messages.success(request, f"Removed the alert channel “{channel.label}”.")
    return redirect("team_alerts", team_slug=access.team.slug)


@login_required
@require_POST
def team_alerts_mute_view(request: HttpRequest, team_slug: str) -> HttpResponse:
    """Any member, for themselves only."""
    access = get_team_for_user(request.user, team_slug, Action.VIEW)
    form = MuteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose to mute or unmute.")
    else:
        muted = form.cleaned_data["muted"]
        email_alerts_mute(team=access.team, user=signed_in_user(request), muted=muted, ip=client_ip(request))
        if muted:
            messages.success(request, f"You get no alert email from {access.team.name} now.")
        else:
            messages.success(request, f"You get alert email from {access.team.name} again.")
    return redirect("team_alerts", team_slug=access.team.slug)
