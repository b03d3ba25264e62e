from django.urls import path

from beatdesk.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("two-factor/", views.second_factor, name="second_factor"),
    path("logout/", views.logout_view, name="logout"),
    path("shift/", views.shift, name="shift"),
    path("password/", views.password_change, name="password_change"),
]
