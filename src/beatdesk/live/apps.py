from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "beatdesk.live"
    label = "live"
