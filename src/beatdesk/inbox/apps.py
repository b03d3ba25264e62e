from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "beatdesk.inbox"
    label = "inbox"
