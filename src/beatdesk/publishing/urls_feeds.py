"""Public: each account's published posts as Atom, a page and an embeddable widget."""

from django.urls import path

from beatdesk.publishing import feeds

app_name = "public"
urlpatterns = [
    path("<int:account_id>/", feeds.page, name="page"),
    path("<int:account_id>/feed.atom", feeds.AccountFeed(), name="feed"),
    path("<int:account_id>/widget", feeds.widget, name="widget"),
]
