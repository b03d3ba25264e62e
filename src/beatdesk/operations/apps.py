from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What an operator reads about the whole desk: `beatdesk status` and /metrics. It sits
    above the desk's parts, whose tables it counts."""

    name = "beatdesk.operations"
    label = "operations"
    verbose_name = "beatdesk operations"
