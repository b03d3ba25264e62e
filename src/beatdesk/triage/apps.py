from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "beatdesk.triage"
    label = "triage"

    def ready(self) -> None:
        # Connects the hand-over of unsure readings to the stronger abuse model's queue.
        from beatdesk.triage import tasks  # noqa: F401  # local import: ready() signal wiring
