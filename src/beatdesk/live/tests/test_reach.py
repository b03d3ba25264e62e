"""Reach and follower counts from Mastodon, Bluesky and X, through the real clients against
a FakeNetwork answering with the payloads each network documents."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
import time_machine

from beatdesk.core.clock import now
from beatdesk.live.models import FollowerSnapshot, ReachSnapshot
from beatdesk.live.reach import reach_series, take_snapshots
from beatdesk.publishing.models import Post
from beatdesk.testing.fakenet import FakeNetwork, Request, Response

pytestmark = pytest.mark.django_db

NETWORKS = Path(__file__).resolve().parents[2] / "networks"
STATUS = json.loads((NETWORKS / "mastodon/fixtures/status_created.json").read_text())
SESSION = json.loads((NETWORKS / "bluesky/fixtures/create_session.json").read_text())
POST_VIEW = json.loads((NETWORKS / "bluesky/fixtures/get_posts.json").read_text())["posts"][0]
NOW = dt.datetime(2024, 11, 22, 15, 0, tzinfo=dt.UTC)
BSKY_URI = f"at://{SESSION['did']}/app.bsky.feed.post/3lrntbr000001"


def sent(account, external_id: str, minutes_ago: int = 30) -> Post:
    return Post.objects.create(
        force=account.force,
        account=account,
        text="#wmp24 1: 14:32 concern for welfare, Kings Heath",
        kind=Post.Kind.LIVE,
        status=Post.Status.SENT,
        external_id=external_id,
        sent_at=now() - dt.timedelta(minutes=minutes_ago),
        idempotency_key=uuid.uuid4().hex,
    )


def mastodon(fake: FakeNetwork, account) -> Post:
    account.set_credentials({"instance": fake.base_url, "access_token": "tok"})
    account.save()
    fake.route(
        "GET",
        "/api/v1/accounts/verify_credentials",
        {
            "id": "109302",
            "username": "westmerepolice",
            "acct": "westmerepolice",
            "display_name": "Westmere Police",
            "followers_count": 1042,
            "following_count": 12,
            "statuses_count": 380,
        },
    )
    fake.route(
        "GET",
        "/api/v1/statuses/113000000000000001",
        dict(
            STATUS, id="113000000000000001", reblogs_count=7, favourites_count=31, replies_count=4
        ),
    )
    fake.route("GET", "/api/v1/statuses/113000000000000002", Response(404, {"error": "Not found"}))
    post = sent(account, "113000000000000001")
    sent(account, "113000000000000002")  # deleted since: nothing to count
    return post


def bluesky(fake: FakeNetwork, account) -> Post:
    account.set_credentials(
        {"service": fake.base_url, "identifier": SESSION["handle"], "app_password": "abcd-efgh"}
    )
    account.save()
    fake.route("POST", "/xrpc/com.atproto.server.createSession", SESSION)

    def profile(request: Request) -> Response:
        assert request.param("actor") == SESSION["did"]
        return Response(
            200,
            {
                "did": SESSION["did"],
                "handle": SESSION["handle"],
                "displayName": "Westmere Police",
                "followersCount": 1310,
                "followsCount": 40,
                "postsCount": 512,
            },
        )

    def posts(request: Request) -> Response:
        assert request.query["uris"] == [BSKY_URI]
        view = dict(POST_VIEW, uri=BSKY_URI, replyCount=2, repostCount=11, likeCount=45)
        return Response(200, {"posts": [view]})

    fake.route("GET", "/xrpc/app.bsky.actor.getProfile", profile)
    fake.route("GET", "/xrpc/app.bsky.feed.getPosts", posts)
    return sent(account, BSKY_URI)


def x(fake: FakeNetwork, account) -> Post:
    account.set_credentials(
        {"api_base": fake.base_url, "user_access_token": "user-token", "user_id": "1500"}
    )
    account.save()

    def me(request: Request) -> Response:
        assert request.param("user.fields") == "public_metrics"
        return Response(
            200,
            {
                "data": {
                    "id": "1500",
                    "name": "Westmere Police",
                    "username": "WestmerePolice",
                    "public_metrics": {
                        "followers_count": 2210,
                        "following_count": 310,
                        "tweet_count": 4100,
                        "listed_count": 25,
                        "like_count": 90,
                    },
                }
            },
        )

    def tweets(request: Request) -> Response:
        assert request.param("tweet.fields") == "public_metrics"
        # The ids come in no set order (PostgreSQL returns the posts in any order).
        assert sorted(request.param("ids").split(",")) == [
            "1767000000000000001",
            "1767000000000000009",
        ]
        return Response(
            200,
            {
                "data": [
                    {
                        "id": "1767000000000000001",
                        "text": "#wmp24 1: 14:32 concern for welfare, Kings Heath",
                        "edit_history_tweet_ids": ["1767000000000000001"],
                        "public_metrics": {
                            "retweet_count": 18,
                            "reply_count": 6,
                            "like_count": 70,
                            "quote_count": 1,
                            "bookmark_count": 0,
                            "impression_count": 5400,
                        },
                    }
                ],
                "errors": [
                    {
                        "value": "1767000000000000009",
                        "detail": "Could not find tweet with ids: [1767000000000000009].",
                        "title": "Not Found Error",
                        "resource_type": "tweet",
                        "parameter": "ids",
                        "resource_id": "1767000000000000009",
                        "type": "https://api.twitter.com/2/problems/resource-not-found",
                    }
                ],
            },
        )

    fake.route("GET", "/2/users/me", me)
    fake.route("GET", "/2/tweets", tweets)
    post = sent(account, "1767000000000000001")
    sent(account, "1767000000000000009")
    return post


@time_machine.travel(NOW, tick=False)
def test_each_network_gives_followers_and_the_reach_of_recent_posts(account, fake_network):
    on_mastodon = mastodon(fake_network, account("@westmerepolice@social.police.example"))
    on_bluesky = bluesky(fake_network, account("westmerepolice.bsky.social"))
    on_x = x(fake_network, account("@WestmerePolice"))

    taken = take_snapshots(force=True)

    assert (taken.accounts, taken.posts, taken.failures) == (3, 3, 0)
    followers = dict(FollowerSnapshot.objects.values_list("account__kind", "followers"))
    assert followers == {"mastodon": 1042, "bluesky": 1310, "x": 2210}
    reach = {
        s.post_id: (s.impressions, s.reposts, s.likes, s.replies)
        for s in ReachSnapshot.objects.all()
    }
    assert reach == {
        on_mastodon.pk: (None, 7, 31, 4),
        on_bluesky.pk: (None, 11, 45, 2),
        on_x.pk: (5400, 18, 70, 6),
    }
    assert reach_series(on_x) == [(NOW, 5400)]
    assert reach_series(on_mastodon) == [(NOW, 42)]


def test_a_failing_network_does_not_stop_the_others(account, fake_network):
    mastodon(fake_network, account("@westmerepolice@social.police.example"))
    broken = account("westmerepolice.bsky.social")
    broken.set_credentials(
        {"service": "http://127.0.0.1:9", "identifier": "a", "app_password": "b"}
    )
    broken.save()
    taken = take_snapshots(force=True)
    assert (taken.accounts, taken.failures) == (1, 1)
    assert list(FollowerSnapshot.objects.values_list("account__kind", flat=True)) == ["mastodon"]


def test_the_poll_loop_takes_them_at_most_every_n_minutes(account, fake_network, settings):
    settings.BEATDESK_REACH_EVERY_MINUTES = 15
    post = mastodon(fake_network, account("@westmerepolice@social.police.example"))
    with time_machine.travel(NOW, tick=False):
        assert not take_snapshots().skipped
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        assert take_snapshots().skipped
    with time_machine.travel(NOW + dt.timedelta(minutes=15), tick=False):
        assert not take_snapshots().skipped
    assert [t for t, _ in reach_series(post)] == [NOW, NOW + dt.timedelta(minutes=15)]


@time_machine.travel(NOW, tick=False)
def test_posts_older_than_three_days_are_no_longer_asked_about(account, fake_network):
    acct = account("@westmerepolice@social.police.example")
    mastodon(fake_network, acct)
    sent(acct, "113000000000000003", minutes_ago=4 * 24 * 60)
    take_snapshots(force=True)
    assert not fake_network.calls("GET", "/api/v1/statuses/113000000000000003")
