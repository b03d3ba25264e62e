from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "beatdesk.sso"
    label = "sso"
    verbose_name = "Single sign-on"
