from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from teams.crypto import generate_key


class Command(BaseCommand):
    help = "Print a new key-id:key entry for QONADMIN_ENCRYPTION_KEYS (put it first to make it the encrypting key)."
    requires_system_checks: list[str] = []  # noqa: RUF012 - Django's own attribute

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--key-id", default=None, help="id for the key (default: k + a timestamp)")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.utils import timezone

        key_id = options["key_id"] or f"k{timezone.now():%Y%m%d%H%M}"
        self.stdout.write(f"{key_id}:{generate_key()}")
