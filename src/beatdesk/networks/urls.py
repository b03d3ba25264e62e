from django.urls import path

from beatdesk.networks import views

app_name = "networks"
urlpatterns = [
    path("health/", views.health, name="health"),
    path("dead-letters/", views.dead_letters, name="dead_letters"),
    path("dead-letters/<int:pk>/retry/", views.retry_dead_letter, name="retry"),
    path("dead-letters/watch/<int:pk>/retry/", views.retry_watch_item, name="retry_watch_item"),
    path("accounts/<int:pk>/credentials/", views.credentials, name="credentials"),
]
