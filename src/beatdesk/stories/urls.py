"""Stories, spikes and the rumour register."""

from django.urls import path

from beatdesk.stories import views

app_name = "stories"
urlpatterns = [
    path("", views.register, name="register"),
    path("<int:pk>/", views.story, name="story"),
    path("<int:pk>/promote/", views.promote, name="promote"),
    path("rumours/<int:pk>/", views.rumour, name="rumour"),
    path("rumours/<int:pk>/update/", views.rumour_update, name="rumour_update"),
    path("operations/<int:pk>/board/", views.board, name="board"),
    path("operations/<int:pk>/board/live/", views.board_live, name="board_live"),
    path("spikes/bar/", views.spike_bar, name="spike_bar"),
]
