from django.apps import AppConfig


class StoriesConfig(AppConfig):
    name = "beatdesk.stories"
    label = "stories"
