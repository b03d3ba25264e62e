"""The force's own feed: what an account has published, as Atom, a public page and the
"latest news" widget a force's or an officer's blog embeds. Public: no sign-in, and nothing
but what was already published (the text, when, on which network, as which account)."""

from __future__ import annotations

import datetime as dt

from csp.decorators import csp_replace
from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.cache import cache_control
from django.views.decorators.clickjacking import xframe_options_exempt

from beatdesk.networks.base import Network
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import kinds
from beatdesk.publishing.models import Post

FEED_SIZE = 30
WIDGET_SIZE = 5


def _public(network: Network) -> bool:
    return network.can_publish and network.publishes_publicly


def public_account(account_id: int) -> NetworkAccount:
    account = NetworkAccount.objects.filter(
        pk=account_id, is_active=True, kind__in=kinds(_public)
    ).first()
    if account is None:
        raise Http404("No such account")
    return account


def published(account: NetworkAccount) -> QuerySet[Post]:
    """Posts the account has published to everyone: sent, never internal notes or replies to
    a member of the public."""
    return (
        Post.objects.filter(account=account, status=Post.Status.SENT, internal=False)
        .filter(in_reply_to__isnull=True)
        .exclude(kind=Post.Kind.REPLY)
        .exclude(sent_at__isnull=True)
        .order_by("-sent_at", "-pk")
    )


class AccountFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, account_id: int) -> NetworkAccount:  # type: ignore[override]
        return public_account(account_id)

    def title(self, account: NetworkAccount) -> str:
        return f"{account.display_name or account.handle} ({account.get_kind_display()})"

    def subtitle(self, account: NetworkAccount) -> str:
        return f"What {account.handle} has published on {account.get_kind_display()}"

    def link(self, account: NetworkAccount) -> str:
        return reverse("public:page", args=[account.pk])

    def items(self, account: NetworkAccount) -> QuerySet[Post]:
        return published(account)[:FEED_SIZE]

    def item_title(self, post: Post) -> str:
        first_line = post.text.strip().split("\n", 1)[0]
        return first_line if len(first_line) <= 90 else first_line[:89].rstrip() + "…"

    def item_description(self, post: Post) -> str:
        return post.text

    def item_link(self, post: Post) -> str:
        return reverse("public:page", args=[post.account_id]) + f"#post-{post.pk}"

    def item_guid(self, post: Post) -> str:
        return f"tag:beatdesk,{post.sent_at:%Y-%m-%d}:post/{post.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, post: Post) -> dt.datetime | None:
        return post.sent_at

    def item_updateddate(self, post: Post) -> dt.datetime | None:
        return post.sent_at


@cache_control(public=True, max_age=60)
def page(request: HttpRequest, account_id: int) -> HttpResponse:
    account = public_account(account_id)
    return render(
        request,
        "publishing/public_page.html",
        {"account": account, "posts": published(account)[:FEED_SIZE]},
    )


@xframe_options_exempt
# Made to be framed by any site: the policy's frame-ancestors 'none' is lifted here only.
# (django-csp types its decorators for views that take the request alone.)
@csp_replace({"frame-ancestors": None})  # type: ignore[arg-type]
@cache_control(public=True, max_age=60)
def widget(request: HttpRequest, account_id: int) -> HttpResponse:
    """The latest posts in a small page made to sit in another site's iframe."""
    account = public_account(account_id)
    return render(
        request,
        "publishing/public_widget.html",
        {"account": account, "posts": published(account)[:WIDGET_SIZE]},
    )
