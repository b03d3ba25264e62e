from django.apps import AppConfig


class NetworksConfig(AppConfig):
    name = "beatdesk.networks"
    label = "networks"
