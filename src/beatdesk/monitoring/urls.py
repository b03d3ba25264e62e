from django.urls import path

from beatdesk.monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("", views.index, name="index"),
    path("operations/new/", views.operation_new, name="operation_new"),
    path("operations/<int:pk>/", views.operation, name="operation"),
    path("operations/<int:pk>/edit/", views.operation_edit, name="operation_edit"),
    path("operations/<int:pk>/delete/", views.operation_delete, name="operation_delete"),
    path("operations/<int:pk>/watches/new/", views.watch_new, name="watch_new"),
    path("approvals/", views.approvals, name="approvals"),
    path("watches/<int:pk>/", views.watch, name="watch"),
    path("watches/<int:pk>/decide/", views.decide, name="decide"),
    path("watches/<int:pk>/hold/", views.hold, name="hold"),
]
