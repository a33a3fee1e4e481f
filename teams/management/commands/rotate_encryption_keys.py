"""Re-encrypt every project's secret key under the first key of QONADMIN_ENCRYPTION_KEYS.

Safe to re-run (a value already under the first key is only checked, never
rewritten) and safe to interrupt: each project is re-sealed in its own short
transaction, holding its row with SELECT … FOR UPDATE, so every row is either
old-and-valid or new-and-valid at any moment. A value that cannot be decrypted
(unknown key id, tampered, moved from another row, not in the v1 format) is
reported and left exactly as it is, and the command then exits non-zero.
Nothing it prints contains any part of a key.
"""

from enum import StrEnum
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from alerts.services import alert_channels_reencrypt
from audit.models import Outcome
from teams import crypto
from teams.crypto import DecryptionError, Keyring
from teams.models import Project
from teams.project_services import record_for_project

ACTION = "keys.rotated"


class Result(StrEnum):
    REENCRYPTED = "re-encrypted"
    CURRENT = "already current"
    FAILED = "failed"
    GONE = "gone"  # deleted while the command ran


class Command(BaseCommand):
    help = (
        "Re-encrypt every project's stored secret key under the first key of QONADMIN_ENCRYPTION_KEYS. "
        "Safe to re-run and to interrupt; exits non-zero if any stored key cannot be decrypted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check every stored key and report what would be re-encrypted, writing nothing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        verbosity: int = options["verbosity"]
        ring = crypto.get_keyring()
        self.stdout.write(
            f"{'Dry run: checking' if dry_run else 'Re-encrypting'} project secret keys under key "
            f"{ring.primary_id!r} (configured key ids: {', '.join(ring.keys)})."
        )
        counts = dict.fromkeys(Result, 0)
        for pk in Project.objects.order_by("pk").values_list("pk", flat=True):
            result = self._rotate_one(pk, ring, dry_run=dry_run, verbosity=verbosity)
            counts[result] += 1

        verb = "Would re-encrypt" if dry_run else "Re-encrypted"
        summary = (
            f"{verb}: {counts[Result.REENCRYPTED]}, already current: {counts[Result.CURRENT]}, "
            f"failed: {counts[Result.FAILED]}."
        )
        if dry_run:
            summary += " Nothing was written."
        else:
            # Alert channel URLs and secrets are sealed with the same key ring.
            try:
                summary += f" Alert channels re-sealed: {alert_channels_reencrypt()}."
            except crypto.DecryptionError as error:
                counts[Result.FAILED] += 1
                summary += f" An alert channel could not be re-sealed ({error}); remove it and add it again."
        style = self.style.ERROR if counts[Result.FAILED] else self.style.SUCCESS
        self.stdout.write(style(summary))
        if counts[Result.FAILED]:
            raise CommandError(
                f"{counts[Result.FAILED]} project key(s) cannot be decrypted and were left unchanged. "
                "Add back the encryption key they were sealed with, or have a team admin enter them again."
            )

    def _rotate_one(self, pk: int, ring: Keyring, *, dry_run: bool, verbosity: int) -> Result:
        # One short transaction per project: an interruption rolls back at most
        # the row in hand, which is then still sealed under its old key.
        with transaction.atomic():
            project = Project.objects.select_for_update(of=("self",)).select_related("team").filter(pk=pk).first()
            if project is None:
                return Result.GONE
            label = f"project {project.pk} “{project.name}” (team {project.team.name})"
            from_key_id = ""
            try:
                from_key_id = crypto.key_id_of(project.secret_key_encrypted)
                # Decrypt every value, current ones too: a tampered row is found now,
                # not when its page is opened after the old key is gone.
                project.secret_key()
                if not crypto.needs_rotation(project.secret_key_encrypted, ring):
                    if verbosity >= 2:
                        self.stdout.write(f"  already current  {label}")
                    return Result.CURRENT
                if not dry_run:
                    project.reencrypt_secret_key()
                    project.save(update_fields=["secret_key_encrypted"])
            except DecryptionError as error:
                # The message names the key id or the failure, never key material.
                self.stderr.write(f"  FAILED           {label}: {error}; left unchanged")
                if not dry_run:
                    record_for_project(
                        project,
                        action=ACTION,
                        actor=None,
                        outcome=Outcome.FAILURE,
                        detail={"from_key_id": from_key_id, "to_key_id": ring.primary_id, "error": str(error)},
                    )
                return Result.FAILED
            to_key_id = crypto.key_id_of(project.secret_key_encrypted) if not dry_run else ring.primary_id
            if not dry_run:
                record_for_project(
                    project,
                    action=ACTION,
                    actor=None,
                    outcome=Outcome.SUCCESS,
                    detail={"from_key_id": from_key_id, "to_key_id": to_key_id},
                )
            verb = "would re-encrypt" if dry_run else "re-encrypted    "
            self.stdout.write(f"  {verb} {label}: {from_key_id} → {to_key_id}")
            return Result.REENCRYPTED
