from django.urls import path

from beatdesk.publishing import views, views_posts

app_name = "publishing"
urlpatterns = [
    path("reply/<int:message_id>/", views.reply, name="reply"),
    path("posts/<int:post_id>/approve/", views.approve, name="approve"),
    path("posts/<int:post_id>/retry/", views.retry, name="retry"),
    path("compose/", views.compose, name="compose"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/month/", views_posts.month, name="month"),
    path("stop/", views.emergency_stop, name="stop"),
    path("p/<str:group>/", views_posts.post_group, name="post"),
    path("p/<str:group>/act/", views_posts.post_act, name="act"),
    path("approvals/", views_posts.approvals_page, name="approvals"),
    path("rules/", views_posts.rules, name="rules"),
    path("appeals/", views_posts.appeals, name="appeals"),
]
