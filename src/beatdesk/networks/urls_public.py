"""Public endpoints: no sign-in (each checks its own secret, limit or honeypot)."""

from django.urls import path

from beatdesk.networks import webhooks
from beatdesk.networks.webform import views as webform

urlpatterns = [
    path("contact/", webform.contact, name="contact"),
    path("api/intake/", webform.intake_api, name="intake_api"),
    path("hooks/<slug:route>/<int:account_id>/", webhooks.webhook, name="webhook"),
]
