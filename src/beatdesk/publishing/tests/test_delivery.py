"""Exactly once across restarts: a post a dead worker left "sending" is settled by each
network's own guarantee; outcomes per network; edit and delete where the network allows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from beatdesk.audit.models import AuditEvent
from beatdesk.core.clock import now
from beatdesk.networks.base import PostOptions
from beatdesk.networks.bluesky.publish import record_key
from beatdesk.networks.registry import connector
from beatdesk.publishing import actions, delivery
from beatdesk.publishing.models import Post
from beatdesk.publishing.sender import do_send, post_options
from beatdesk.publishing.tasks import send_post
from beatdesk.publishing.tests.fakes import FakeBluesky, FakeMastodon, FakeX

pytestmark = pytest.mark.django_db
TEXT = "Our PCSOs are at Abbeyfield library on Saturday from 10 until 12: come and say hello!"


@pytest.fixture
def nets(account, fake_network):
    mastodon, bluesky, x = (
        FakeMastodon(fake_network),
        FakeBluesky(fake_network),
        FakeX(fake_network),
    )
    handles = {
        "mastodon": ("@westmerepolice@social.police.example", mastodon),
        "bluesky": ("westmerepolice.bsky.social", bluesky),
        "x": ("@WestmerePolice", x),
    }
    accounts = {}
    for kind, (handle, fake) in handles.items():
        acct = account(handle)
        acct.set_credentials(fake.credentials())
        acct.save()
        accounts[kind] = acct
    return accounts, mastodon, bluesky, x


def stuck(user, acct, minutes: int = 10) -> Post:
    """A post whose worker died after the network took it but before the answer came back."""
    (post,) = actions.check_compose(
        user, text=TEXT, kind="event", account_ids=[acct.pk], send="draft"
    )
    network = connector(acct.kind)
    # The dead worker's process (and the connector's memory of what it sent) is gone: only
    # what the network itself keeps (Mastodon's key, Bluesky's record key) can be relied on.
    if acct.kind == "bluesky":
        network.post(acct, post.text, rkey=record_key(post_options(post)))
    else:
        key = post.idempotency_key if acct.kind == "mastodon" else ""
        network.publish(acct, post.text, PostOptions(idempotency_key=key))
    Post.objects.filter(pk=post.pk).update(
        status=Post.Status.SENDING, claimed_at=now() - dt.timedelta(minutes=minutes)
    )
    return post


def settle(post: Post) -> Post:
    """Recover, then run the send the recovery queued (as the worker would)."""
    (result,) = delivery.recover_stuck_posts()
    if result.outcome == "resent":
        send_post.call(post.pk)
    post.refresh_from_db()
    return post


def test_mastodon_is_sent_again_with_the_same_key_and_posts_once(nets, users):
    accounts, mastodon, _, _ = nets
    post = settle(stuck(users["dana.desk"], accounts["mastodon"]))
    assert post.status == "sent" and post.external_id in mastodon.statuses
    assert mastodon.texts() == [TEXT]
    assert AuditEvent.objects.filter(action="post.recovered").exists()


def test_mastodon_after_the_key_expired_asks_a_person(nets, users):
    accounts, mastodon, _, _ = nets
    post = settle(stuck(users["dana.desk"], accounts["mastodon"], minutes=90))
    assert post.status == "check" and "check" in post.error
    done = actions.check_resolve(users["dana.desk"], post.pk, True, "114166070000001000")
    assert done.status == "sent" and mastodon.texts() == [TEXT]


def test_bluesky_finds_the_record_by_its_key_and_never_posts_twice(nets, users):
    accounts, _, bluesky, _ = nets
    post = settle(stuck(users["dana.desk"], accounts["bluesky"]))
    assert post.status == "sent"
    assert post.external_id.endswith("/" + record_key(post_options(post)))
    assert bluesky.texts() == [TEXT]


def test_bluesky_not_there_is_sent_with_the_same_key(nets, users):
    accounts, _, bluesky, _ = nets
    post = stuck(users["dana.desk"], accounts["bluesky"])
    bluesky.records.clear()  # the request never reached the network
    post = settle(post)
    assert post.status == "sent" and bluesky.texts() == [TEXT]


def test_x_looks_on_the_timeline_before_sending_again(nets, users):
    accounts, _, _, x = nets
    post = settle(stuck(users["dana.desk"], accounts["x"]))
    assert post.status == "sent" and list(x.tweets) == [post.external_id]


def test_a_recent_claim_is_left_to_its_worker(nets, users):
    accounts, mastodon, _, _ = nets
    post = stuck(users["dana.desk"], accounts["mastodon"])
    Post.objects.filter(pk=post.pk).update(claimed_at=now())
    assert delivery.recover_stuck_posts() == []
    post.refresh_from_db()
    assert post.status == "sending"


def test_edit_on_mastodon_and_delete_everywhere_audited(nets, users):
    accounts, mastodon, bluesky, x = nets
    posts = actions.check_compose(
        users["dana.desk"],
        text=TEXT,
        kind="event",
        account_ids=[a.pk for a in accounts.values()],
        send="now",
    )
    for post in posts:
        send_post.call(post.pk)
    sent = {p.account.kind: Post.objects.get(pk=p.pk) for p in posts}
    assert {p.status for p in sent.values()} == {"sent"}
    fixed = actions.check_edit_published(
        users["dana.desk"], sent["mastodon"].pk, TEXT.replace("10", "11")
    )
    assert "from 11" in mastodon.texts()[0] and "from 11" in fixed.text
    with pytest.raises(ValidationError, match="does not let a post be edited"):
        actions.check_edit_published(users["dana.desk"], sent["x"].pk, "changed")
    for post in sent.values():
        actions.check_delete_published(users["dana.desk"], post.pk, "event cancelled")
    assert not mastodon.statuses and not bluesky.records and not x.tweets
    assert AuditEvent.objects.filter(action="post.deleted_on_network").count() == 3


def test_the_post_page_shows_every_network_outcome_and_guarantee(nets, users, client_for):
    accounts, *_ = nets
    posts = actions.check_compose(
        users["dana.desk"],
        text=TEXT,
        kind="event",
        account_ids=[a.pk for a in accounts.values()],
        send="now",
    )
    send_post.call(posts[0].pk)
    page = client_for("dana.desk").get(f"/publishing/p/{posts[0].group}/")
    body = page.content.decode()
    assert body.count("data-outcome=") == 3
    assert "Idempotency-Key" in body and "record key is fixed" in body
    assert 'data-status="sent"' in body and 'data-status="scheduled"' in body


def test_a_failed_bluesky_send_that_arrived_is_not_sent_again(nets, users):
    accounts, _, bluesky, _ = nets
    post = stuck(users["dana.desk"], accounts["bluesky"])  # on Bluesky, answer lost
    Post.objects.filter(pk=post.pk).update(status=Post.Status.FAILED, error="timed out")
    post.refresh_from_db()
    sent = do_send(post)
    assert sent.status == "sent" and bluesky.texts() == [TEXT]
    assert sent.external_id.endswith("/" + record_key(post_options(post)))
