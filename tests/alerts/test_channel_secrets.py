"""Channel URLs and webhook secrets are encrypted at rest like project keys: not in a
database dump, not readable in the database file, bound to their row, re-sealable
under a new key."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from alerts.models import AlertChannel, ChannelKind
from alerts.services import alert_channel_create, alert_channels_reencrypt
from teams import crypto
from teams.crypto import DecryptionError

SLACK_URL = "https://hooks.slack.com/services/T0ACME/B0OPS/slackpathtoken1234"
WEBHOOK_URL = "https://alerts.example.com/in/webhookpathtoken5678"


@pytest.fixture
def channels(team, owner) -> dict[str, str]:
    alert_channel_create(team=team, actor=owner, kind=ChannelKind.SLACK, label="#ops", url=SLACK_URL)
    created = alert_channel_create(team=team, actor=owner, kind=ChannelKind.WEBHOOK, label="Ops", url=WEBHOOK_URL)
    return {"slack": SLACK_URL, "webhook": WEBHOOK_URL, "secret": created.secret}


def assert_nothing_readable(text: str, channels: dict[str, str], where: str) -> None:
    for name, value in channels.items():
        for needle in (value, value.rsplit("/", 1)[-1], value[-20:]):
            assert needle not in text, f"{where}: {name} readable ({needle!r})"


@pytest.mark.django_db
def test_a_database_dump_holds_only_sealed_values(channels):
    out = io.StringIO()
    call_command("dumpdata", "alerts", stdout=out)
    dump = out.getvalue()
    rows = {row["fields"]["label"]: row["fields"] for row in json.loads(dump) if row["model"] == "alerts.alertchannel"}
    assert rows["#ops"]["target_encrypted"].startswith("v1:t2:")  # the dump is real
    assert rows["Ops"]["secret_encrypted"].startswith("v1:t2:")
    assert rows["#ops"]["target_hint"] == "https://hooks.slack.com/…/1234"
    assert_nothing_readable(dump, channels, "dumpdata")


@pytest.mark.django_db
def test_every_stored_column_of_a_channel_is_sealed_or_masked(channels):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AlertChannel._meta.db_table}")  # noqa: S608 - our own table name
        rows = cursor.fetchall()
    assert len(rows) == 2
    assert_nothing_readable(repr(rows), channels, "raw rows")


@pytest.mark.django_db(transaction=True)
def test_the_database_file_holds_no_readable_url_or_secret(channels):
    if connection.vendor != "sqlite":
        pytest.skip("reads the SQLite file itself; on PostgreSQL the raw rows and the dump are checked")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = Path(connection.settings_dict["NAME"])
    raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    assert b"v1:t2:" in raw
    assert_nothing_readable(raw.decode("latin-1"), channels, "database file")


@pytest.mark.django_db
def test_a_sealed_value_copied_to_another_channel_does_not_decrypt(channels):
    slack, webhook = AlertChannel.objects.get(label="#ops"), AlertChannel.objects.get(label="Ops")
    AlertChannel.objects.filter(pk=webhook.pk).update(target_encrypted=slack.target_encrypted)
    webhook.refresh_from_db()
    with pytest.raises(DecryptionError):
        webhook.target()
    with pytest.raises(DecryptionError):  # nor is a secret readable as a URL of the same row
        AlertChannel(public_id=webhook.public_id, target_encrypted=webhook.secret_encrypted).target()


@pytest.mark.django_db
def test_channels_are_resealed_under_a_new_primary_key(channels, settings):
    settings.QONADMIN_ENCRYPTION_KEYS = f"t3:{crypto.generate_key()},{settings.QONADMIN_ENCRYPTION_KEYS}"
    assert alert_channels_reencrypt() == 2
    for channel in AlertChannel.objects.all():
        assert crypto.key_id_of(channel.target_encrypted) == "t3"
    webhook = AlertChannel.objects.get(label="Ops")
    assert crypto.key_id_of(webhook.secret_encrypted) == "t3"
    assert (webhook.target(), webhook.secret()) == (WEBHOOK_URL, channels["secret"])
