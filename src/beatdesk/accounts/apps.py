from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "beatdesk.accounts"
    label = "accounts"

    def ready(self) -> None:
        from beatdesk.accounts import signals  # noqa: F401  (connects the auth audit hooks)
