from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "beatdesk.audit"
    label = "audit"
