from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Qonversion integrations"

    def ready(self) -> None:
        # Parse the encryption key ring at start-up so a bad QONADMIN_ENCRYPTION_KEYS
        # stops the process instead of failing on the first secret read.
        from integrations.crypto import get_keyring

        get_keyring()
