"""Public endpoints: no sign-in (each checks its own secret, limit or honeypot)."""

from django.urls import path

from beatdesk.networks import webhooks
from beatdesk.networks.webform import views as webform

urlpatterns = [
    path("contact/", webform.contact, name="contact"),
    path("api/intake/", webform.intake_api, name="intake_api"),
    path("hooks/x/<int:account_id>/", webhooks.x_webhook, name="x_webhook"),
    path("hooks/meta/<int:account_id>/", webhooks.meta_webhook, name="meta_webhook"),
]
