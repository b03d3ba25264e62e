"""The networks' own pages (an account's credentials). They are served under /networks/ and
named networks:*, beside the Channels pages, by beatdesk/operations/urls.py."""

from django.urls import path

from beatdesk.networks import views

urlpatterns = [
    path("accounts/<int:pk>/credentials/", views.credentials, name="credentials"),
]
