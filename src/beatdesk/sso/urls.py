from django.urls import path

from beatdesk.sso import backend, views

app_name = "sso"
urlpatterns = [
    path("sso/login/", backend.SsoRequestView.as_view(), name="login"),
    path("sso/callback/", backend.SsoCallbackView.as_view(), name="callback"),
    path("administration/sso/", views.administration, name="administration"),
]
