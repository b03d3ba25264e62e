from django.urls import path

from beatdesk.live import views

app_name = "live"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("<int:event_id>/", views.detail, name="detail"),
    path("<int:event_id>/approve/", views.approvals, name="approvals"),
    path("<int:event_id>/decide/", views.decide, name="decide"),
    path("<int:event_id>/waiting/", views.waiting, name="waiting"),
    path("<int:event_id>/entries/<int:entry_id>/edit/", views.edit, name="edit"),
    path("<int:event_id>/token/", views.new_token, name="token"),
    path("<int:event_id>/import/", views.upload, name="upload"),
    path("<int:event_id>/entries", views.intake, name="intake"),
]
