from django.urls import path

from beatdesk.inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.index, name="index"),
    path("inbox/rows/", views.rows, name="rows"),
    path("messages/<int:pk>/", views.message_detail, name="message"),
    path("messages/<int:pk>/work/", views.work, name="work"),
    path("desk/bulk/", views.bulk, name="bulk"),
    path("desk/handover/", views.handover, name="handover"),
    path("desk/targets/", views.targets, name="targets"),
    path("desk/bulk/<int:pk>/undo/", views.bulk_undo, name="bulk_undo"),
]
