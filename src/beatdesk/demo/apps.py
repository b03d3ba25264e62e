from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo force and its scenario: `beatdesk demo` and `beatdesk seed_demo`."""

    name = "beatdesk.demo"
    label = "beatdesk_demo"
    verbose_name = "beatdesk demo"
