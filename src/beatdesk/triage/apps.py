from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "beatdesk.triage"
    label = "triage"
