from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = "Teams and projects"

    def ready(self) -> None:
        # Parse the encryption key ring at start-up so a bad QONADMIN_ENCRYPTION_KEYS
        # stops the process instead of failing on the first secret read.
        from teams.crypto import get_keyring

        get_keyring()
