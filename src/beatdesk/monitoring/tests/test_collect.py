"""Collecting for watches from fake networks spoken to over real HTTP (testing.fakenet):
each collector stores what it finds once, resumes from its cursor, backs off on 429, and
an expired watch asks the network nothing."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from beatdesk.accounts.models import Force
from beatdesk.audit.models import AuditEvent
from beatdesk.core.clock import now
from beatdesk.monitoring.collect import collect_due_watches, do_collect
from beatdesk.monitoring.models import Watch, WatchPost
from beatdesk.monitoring.signals import posts_collected
from beatdesk.networks.models import NetworkAccount
from beatdesk.testing.fakenet import FakeNetwork, Request, Response
from beatdesk.testing.fakenet import fake_network as fake_network  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RSS_FEED = Path(__file__).resolve().parents[2] / "networks/rss/fixtures/westmere_gazette_rss.xml"
TOKEN = "watch-token-not-for-logs"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def announced() -> Iterator[list[list[int]]]:
    """The ids each posts_collected signal carried."""
    seen: list[list[int]] = []

    def receiver(sender: Any, watch_post_ids: list[int], **kwargs: Any) -> None:
        seen.append(list(watch_post_ids))

    posts_collected.connect(receiver, weak=False)
    yield seen
    posts_collected.disconnect(receiver)


# --- fake networks ------------------------------------------------------------------------


def status(number: int) -> dict[str, Any]:
    item = copy.deepcopy(fixture("mastodon_tag_status.json"))
    item["id"] = str(114170000000000000 + number)
    at = dt.datetime(2026, 3, 14, 12, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=number)
    item["created_at"] = at.isoformat().replace("+00:00", "Z")
    item["content"] = (
        f'<p>Carnival update {number} <a href="#">#<span>WestmereCarnival</span></a></p>'
    )
    return item


class MastodonSearch:
    """The tag timeline and status search as Mastodon answers them: newest first, limit,
    min_id (the page just above it), since_id."""

    def __init__(self, fake: FakeNetwork, statuses: list[dict[str, Any]]) -> None:
        self.statuses = statuses
        fake.route("GET", "/api/v1/timelines/tag/WestmereCarnival", self.timeline)
        fake.route("GET", "/api/v2/search", self.search)

    def _page(self, request: Request) -> list[dict[str, Any]]:
        limit = min(int(request.param("limit") or 20), 40)
        found = sorted(self.statuses, key=lambda s: int(s["id"]), reverse=True)
        if min_id := request.param("min_id"):
            found = [s for s in found if int(s["id"]) > int(min_id)][-limit:]
        return found[:limit]

    def timeline(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return Response(401, {"error": "The access token is invalid"})
        return Response(200, self._page(request))

    def search(self, request: Request) -> Response:
        assert request.param("type") == "statuses"
        return Response(200, {"accounts": [], "statuses": self._page(request), "hashtags": []})


def post_view(number: int) -> dict[str, Any]:
    view = copy.deepcopy(fixture("bluesky_post_view.json"))
    view["uri"] = f"at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3l6oveex{number:05d}"
    view["record"]["text"] = f"Floats update {number} #WestmereCarnival"
    at = dt.datetime(2026, 3, 14, 12, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=number)
    view["record"]["createdAt"] = at.isoformat().replace("+00:00", "Z")
    view["indexedAt"] = (at + dt.timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    return view


class BlueskySearch:
    """app.bsky.feed.searchPosts with sort=latest: newest first, `since` and a cursor that
    pages older (an offset, as the AppView's is)."""

    def __init__(self, fake: FakeNetwork, views: list[dict[str, Any]]) -> None:
        self.views = views
        fake.route("POST", "/xrpc/com.atproto.server.createSession", fixture_session)
        fake.route("GET", "/xrpc/app.bsky.feed.searchPosts", self.search)

    def search(self, request: Request) -> Response:
        assert request.param("sort") == "latest"
        found = sorted(self.views, key=lambda v: v["indexedAt"], reverse=True)
        if since := request.param("since"):
            found = [v for v in found if v["indexedAt"] >= since]
        offset = int(request.param("cursor") or 0)
        limit = int(request.param("limit") or 25)
        page = found[offset : offset + limit]
        body: dict[str, Any] = {"posts": page, "hitsTotal": len(found)}
        if offset + limit < len(found):
            body["cursor"] = str(offset + limit)
        return Response(200, body)


def fixture_session(request: Request) -> Response:
    session = Path(__file__).resolve().parents[2] / "networks/bluesky/fixtures/create_session.json"
    return Response(200, json.loads(session.read_text()))


def tweet_page() -> dict[str, Any]:
    return fixture("x_search_recent.json")


class XSearch:
    """GET /2/tweets/search/recent: newest first, since_id."""

    def __init__(self, fake: FakeNetwork, page: dict[str, Any]) -> None:
        self.page = page
        fake.route("GET", "/2/tweets/search/recent", self.search)

    def search(self, request: Request) -> Response:
        page = copy.deepcopy(self.page)
        if since := request.param("since_id"):
            page["data"] = [t for t in page["data"] if int(t["id"]) > int(since)]
        if not page["data"]:
            return Response(200, {"meta": {"result_count": 0}})
        page["meta"] = {
            "newest_id": page["data"][0]["id"],
            "oldest_id": page["data"][-1]["id"],
            "result_count": len(page["data"]),
        }
        return Response(200, page)


# --- watches on each network --------------------------------------------------------------


def searching_account(force: Force, kind: str, credentials: dict[str, Any]) -> NetworkAccount:
    account = NetworkAccount.objects.get(force=force, kind=kind, scope="force")
    account.set_credentials(credentials)
    account.save()
    return account


def test_mastodon_hashtag_watch_collects_dedupes_and_resumes(
    force: Force,
    make_watch: Callable[..., Watch],
    fake_network: FakeNetwork,
    announced: list[list[int]],
) -> None:
    instance = MastodonSearch(fake_network, [status(n) for n in (1, 2, 3)])
    account = searching_account(
        force, "mastodon", {"instance": fake_network.base_url, "access_token": TOKEN}
    )
    watch = make_watch(network="mastodon", account=account)

    first = do_collect(watch)
    assert (first.status, first.found, first.stored) == ("collected", 3, 3)
    posts = list(WatchPost.objects.filter(watch=watch).order_by("posted_at"))
    assert [p.text for p in posts] == [f"Carnival update {n} #WestmereCarnival" for n in (1, 2, 3)]
    assert posts[0].author_handle == "@carnivalfan@mastodon.example" and posts[0].language == "en"
    assert json.loads(posts[0].raw)["id"] == status(1)["id"] and len(posts[0].sha256) == 64
    assert announced == [sorted(p.pk for p in posts)]
    watch.refresh_from_db()
    assert watch.cursor == status(3)["id"]

    instance.statuses.append(status(4))
    second = do_collect(watch)
    assert (second.found, second.stored) == (1, 1)
    assert fake_network.requests[-1].param("min_id") == status(3)["id"]
    assert WatchPost.objects.filter(watch=watch).count() == 4

    instance.statuses += [status(n) for n in range(5, 51)]  # more than a page of 40
    assert do_collect(watch).stored == 46
    assert WatchPost.objects.filter(watch=watch).count() == 50

    watch.cursor = ""  # as if the cursor were lost: the same posts again store nothing new
    assert do_collect(watch).stored == 0
    assert WatchPost.objects.filter(watch=watch).count() == 50


def test_mastodon_keyword_watch_searches_statuses(
    force: Force, make_watch: Callable[..., Watch], fake_network: FakeNetwork
) -> None:
    MastodonSearch(fake_network, [status(5)])
    account = searching_account(
        force, "mastodon", {"instance": fake_network.base_url, "access_token": TOKEN}
    )
    watch = make_watch(network="mastodon", account=account, kind="phrase", query="carnival crush")
    assert do_collect(watch).stored == 1
    sent = fake_network.calls("GET", "/api/v2/search")[0]
    assert sent.param("q") == '"carnival crush"' and sent.param("resolve") == "false"


def test_bluesky_watch_collects_dedupes_and_resumes(
    force: Force, make_watch: Callable[..., Watch], fake_network: FakeNetwork
) -> None:
    search = BlueskySearch(fake_network, [post_view(n) for n in (1, 2)])
    account = searching_account(
        force,
        "bluesky",
        {
            "service": fake_network.base_url,
            "identifier": "westmerepolice.bsky.social",
            "app_password": "a-b-c-d",
        },
    )
    watch = make_watch(network="bluesky", account=account)
    assert do_collect(watch).stored == 2
    first = fake_network.calls("GET", "/xrpc/app.bsky.feed.searchPosts")[0]
    assert first.param("q") == "#WestmereCarnival" and first.param("since") is None
    post = WatchPost.objects.filter(watch=watch).order_by("posted_at").first()
    assert post is not None and post.author_handle == "@carnivalfan.bsky.social"
    watch.refresh_from_db()
    assert watch.cursor == post_view(2)["indexedAt"]

    search.views += [post_view(n) for n in range(3, 160)]  # more than one page of 100
    outcome = do_collect(watch)
    assert outcome.stored == 157
    assert fake_network.calls("GET", "/xrpc/app.bsky.feed.searchPosts")[1].param("since")
    assert WatchPost.objects.filter(watch=watch).count() == 159
    assert do_collect(watch).stored == 0


def test_x_watch_collects_with_places_and_resumes_from_since_id(
    force: Force, make_watch: Callable[..., Watch], fake_network: FakeNetwork
) -> None:
    search = XSearch(fake_network, tweet_page())
    account = searching_account(
        force, "x", {"bearer_token": TOKEN, "api_base": fake_network.base_url}
    )
    watch = make_watch(network="x", account=account, kind="place", query="52.51, -2.08, 5")
    assert do_collect(watch).stored == 2
    sent = fake_network.calls("GET", "/2/tweets/search/recent")[0]
    assert sent.param("query") == "point_radius:[-2.08 52.51 5km]"
    assert sent.param("expansions") == "geo.place_id,author_id"
    by_id = {p.external_id: p for p in WatchPost.objects.filter(watch=watch)}
    exact = by_id["1900000000000000100"]
    assert (exact.latitude, exact.longitude) == (52.5121, -2.0835)
    placed = by_id["1900000000000000200"]
    assert placed.latitude == pytest.approx(52.51) and placed.longitude == pytest.approx(-2.08)
    assert placed.author_handle == "@WestmereGazette"

    newer = copy.deepcopy(search.page["data"][0])
    newer.update(id="1900000000000000300", text="Parade over, thanks all #WestmereCarnival")
    search.page["data"].insert(0, newer)
    assert do_collect(watch).stored == 1
    assert (
        fake_network.calls("GET", "/2/tweets/search/recent")[1].param("since_id")
        == "1900000000000000200"
    )


def test_feed_watch_reads_the_feed_once(
    make_watch: Callable[..., Watch], fake_network: FakeNetwork
) -> None:
    fake_network.route(
        "GET",
        "/news/feed.xml",
        Response(
            200, RSS_FEED.read_bytes(), {"Content-Type": "application/rss+xml", "ETag": '"v1"'}
        ),
    )
    watch = make_watch(network="rss", kind="feed", query=f"{fake_network.base_url}/news/feed.xml")
    stored = do_collect(watch).stored
    assert stored > 0
    assert WatchPost.objects.filter(watch=watch, network="rss").count() == stored
    assert do_collect(watch).stored == 0
    assert fake_network.requests[-1].headers.get("if-none-match") == '"v1"'


def test_expired_refused_and_unapproved_watches_collect_nothing(
    force: Force, make_watch: Callable[..., Watch], fake_network: FakeNetwork
) -> None:
    MastodonSearch(fake_network, [status(1)])
    account = searching_account(
        force, "mastodon", {"instance": fake_network.base_url, "access_token": TOKEN}
    )
    at = now()
    expired = make_watch(
        network="mastodon",
        account=account,
        starts_at=at - dt.timedelta(days=2),
        expires_at=at - dt.timedelta(minutes=1),
    )
    waiting = make_watch(network="mastodon", account=account, status=Watch.Status.AWAITING_APPROVAL)
    assert not expired.is_collecting and expired.state == "expired"
    assert expired.status == Watch.Status.ACTIVE  # the status stays; it just stops
    assert collect_due_watches() == []
    for watch in (expired, waiting):
        assert do_collect(watch).status == "not collecting"
    assert fake_network.requests == []
    assert not WatchPost.objects.exists()


def test_a_rate_limit_backs_off_until_the_networks_reset(
    force: Force, make_watch: Callable[..., Watch], fake_network: FakeNetwork
) -> None:
    MastodonSearch(fake_network, [status(1), status(2)])
    account = searching_account(
        force, "mastodon", {"instance": fake_network.base_url, "access_token": TOKEN}
    )
    watch = make_watch(network="mastodon", account=account)
    reset = (now() + dt.timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    fake_network.fail_next(
        "429", headers={"X-RateLimit-Reset": reset, "X-RateLimit-Remaining": "0"}
    )

    outcome = do_collect(watch)
    assert outcome.status == "failed" and "rate limited" in outcome.detail
    watch.refresh_from_db()
    assert watch.cursor == "" and watch.consecutive_failures == 1
    assert watch.next_attempt_at is not None
    assert watch.next_attempt_at >= now() + dt.timedelta(minutes=9)
    assert not WatchPost.objects.exists()

    assert do_collect(watch).status == "waiting"
    assert len(fake_network.requests) == 1  # waiting asks the network nothing
    fake_network.fail_next("500")
    assert do_collect(watch, force=True).status == "failed"
    watch.refresh_from_db()
    assert watch.consecutive_failures == 2
    assert do_collect(watch, force=True).stored == 2
    watch.refresh_from_db()
    assert (
        watch.consecutive_failures == 0 and watch.next_attempt_at is None and watch.last_error == ""
    )


def test_collection_is_in_the_audit_log(
    force: Force, make_watch: Callable[..., Watch], fake_network: FakeNetwork
) -> None:
    MastodonSearch(fake_network, [status(1)])
    account = searching_account(
        force, "mastodon", {"instance": fake_network.base_url, "access_token": TOKEN}
    )
    watch = make_watch(network="mastodon", account=account)
    do_collect(watch)
    event = AuditEvent.objects.get(action="watch.collected")
    assert event.category == "collection" and event.object_id == str(watch.pk)
    assert event.actor_label == "system:watch"


def test_the_poller_collects_for_watches_each_round(
    force: Force, make_watch: Callable[..., Watch], fake_network: FakeNetwork
) -> None:
    MastodonSearch(fake_network, [status(1), status(2)])
    account = searching_account(
        force, "mastodon", {"instance": fake_network.base_url, "access_token": TOKEN}
    )
    make_watch(name="Carnival toots", network="mastodon", account=account)
    fake_network.route("GET", "/api/v1/notifications", [])  # the account's own mentions
    out = StringIO()
    call_command("poll", "--once", stdout=out)
    assert "watch Carnival toots (Mastodon #WestmereCarnival): collected, 2 new" in out.getvalue()
    assert WatchPost.objects.count() == 2
