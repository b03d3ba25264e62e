from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "beatdesk.cases"
    label = "cases"
