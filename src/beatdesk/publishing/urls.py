from django.urls import path

from beatdesk.publishing import views

app_name = "publishing"
urlpatterns = [
    path("reply/<int:message_id>/", views.reply, name="reply"),
    path("posts/<int:post_id>/approve/", views.approve, name="approve"),
    path("posts/<int:post_id>/retry/", views.retry, name="retry"),
    path("compose/", views.compose, name="compose"),
    path("calendar/", views.calendar, name="calendar"),
    path("stop/", views.emergency_stop, name="stop"),
]
