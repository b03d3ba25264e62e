from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "beatdesk.monitoring"
    label = "monitoring"
