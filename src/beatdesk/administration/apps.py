from django.apps import AppConfig


class AdministrationConfig(AppConfig):
    name = "beatdesk.administration"
    label = "administration"
    verbose_name = "Administration"
