from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "beatdesk.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Connects the auth audit hooks.
        from beatdesk.accounts import signals  # noqa: F401  # local import: ready() signal wiring
