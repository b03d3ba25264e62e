from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "beatdesk.core"
    label = "core"
