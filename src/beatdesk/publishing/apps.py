from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "beatdesk.publishing"
    label = "publishing"
