from django.urls import path

from beatdesk.administration import views

app_name = "administration"
urlpatterns = [
    path("", views.index, name="index"),
    path("users/", views.users, name="users"),
    path("users/invite/", views.invite, name="invite"),
    path("users/import/", views.import_users, name="import"),
    path("users/<int:pk>/", views.user, name="user"),
    path("users/<int:pk>/second-factor/", views.reset_second_factor, name="reset_second_factor"),
    path("users/<int:pk>/enabled/", views.set_enabled, name="set_enabled"),
    path("users/<int:pk>/reinvite/", views.reinvite, name="reinvite"),
    path("invitation/<str:token>/", views.accept, name="accept"),
    path("teams/", views.teams, name="teams"),
    path("teams/new/", views.team, name="team_new"),
    path("teams/<int:pk>/", views.team, name="team"),
    path("areas/", views.areas, name="areas"),
    path("areas/new/", views.area, name="area_new"),
    path("areas/<int:pk>/", views.area, name="area"),
    path("force/", views.force_settings, name="force"),
]
