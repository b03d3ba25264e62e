"""/networks/: the Channels page and dead letters (operations' pages, reading every part's
backlog) and the networks' own pages, all named networks:* as they always were."""

from django.urls import path

from beatdesk.networks import urls as networks
from beatdesk.operations import views

app_name = "networks"
urlpatterns = [
    path("health/", views.health, name="health"),
    path("dead-letters/", views.dead_letters, name="dead_letters"),
    path("dead-letters/<int:pk>/retry/", views.retry_dead_letter, name="retry"),
    path("dead-letters/watch/<int:pk>/retry/", views.retry_watch_item, name="retry_watch_item"),
    *networks.urlpatterns,
]
