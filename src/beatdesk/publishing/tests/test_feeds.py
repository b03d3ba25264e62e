"""The force's own feed: an account's published posts as Atom, a public page and the
embeddable widget — no sign-in, and nothing that was not published."""

from __future__ import annotations

import datetime as dt
import uuid

import feedparser
import pytest
from django.test import Client

from beatdesk.core.clock import now
from beatdesk.publishing.models import Post

pytestmark = pytest.mark.django_db
FORCE_X = "@WestmerePolice"


def post(account, text: str, **fields) -> Post:
    values = {
        "force": account.force,
        "account": account,
        "text": text,
        "kind": Post.Kind.UPDATE,
        "status": Post.Status.SENT,
        "sent_at": now() - dt.timedelta(minutes=fields.pop("minutes_ago", 5)),
        "idempotency_key": uuid.uuid4().hex,
    }
    values.update(fields)
    return Post.objects.create(**values)


@pytest.fixture
def published(account, deliver, users):
    acct = account(FORCE_X)
    received = deliver({"id": "x-1", "network": "x", "text": "my bike was stolen", "author": "@r"})
    post(acct, "Older: Dudley Road surgery on Friday", minutes_ago=60)
    post(acct, "Our PCSOs are at Abbeyfield library on Saturday: come and say hello!")
    post(acct, "Draft, not out yet", status=Post.Status.DRAFT)
    post(acct, "Awaiting a supervisor", status=Post.Status.AWAITING_APPROVAL)
    post(acct, "Failed to go", status=Post.Status.FAILED)
    post(acct, "Internal note about the caller", internal=True)
    post(acct, "@r sorry to hear that, please call 101", kind=Post.Kind.REPLY,
         in_reply_to_id=received.message_id)  # fmt: skip
    post(account("@WMP_DudleyRd"), "A team account's post")
    return acct


def test_the_atom_feed_has_only_what_the_account_published_newest_first(published):
    response = Client().get(f"/public/{published.pk}/feed.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert feed.version == "atom10" and not feed.bozo
    assert [e.summary for e in feed.entries] == [
        "Our PCSOs are at Abbeyfield library on Saturday: come and say hello!",
        "Older: Dudley Road surgery on Friday",
    ]
    assert feed.feed.title == "Westmere Police (X)"
    newest = Post.objects.get(text__startswith="Our PCSOs")
    assert feed.entries[0].link == f"http://testserver/public/{published.pk}/#post-{newest.pk}"


def test_the_public_page_needs_no_sign_in_and_shows_no_desk(published):
    html = Client().get(f"/public/{published.pk}/").content.decode()
    assert "Our PCSOs are at Abbeyfield library" in html
    for hidden in ("Draft, not out yet", "Internal note", "Awaiting a supervisor", "call 101"):
        assert hidden not in html
    assert "Sign out" not in html and "Inbox" not in html
    assert f"/public/{published.pk}/widget" in html  # the snippet to embed
    assert f'href="/public/{published.pk}/feed.atom"' in html


def test_the_widget_may_be_framed_by_another_site(published):
    response = Client().get(f"/public/{published.pk}/widget")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert "Latest news from Westmere Police" in response.content.decode()
    assert Client().get(f"/public/{published.pk}/").get("X-Frame-Options") == "DENY"


def test_a_signed_in_desk_user_who_has_not_passed_the_second_factor_still_sees_it(published, users):
    client = Client()
    client.force_login(users["dana.desk"])
    assert client.get(f"/public/{published.pk}/").status_code == 200


def test_accounts_that_never_publish_have_no_public_page(account):
    for handle in ("replay", "contact@westmere-police.example", "westmere-web-form"):
        assert Client().get(f"/public/{account(handle).pk}/feed.atom").status_code == 404
    assert Client().get("/public/999999/").status_code == 404
