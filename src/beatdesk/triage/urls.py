from django.urls import path

from beatdesk.triage import views

app_name = "triage"
urlpatterns = [
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("messages/<int:pk>/correct/", views.correct, name="correct"),
    path("routing/", views.rules, name="rules"),
    path("routing/new/", views.rule_edit, name="rule_new"),
    path("routing/<int:pk>/", views.rule_edit, name="rule_edit"),
]
