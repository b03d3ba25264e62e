"""The Mastodon connector against a fake instance spoken to over real HTTP (testing.fakenet)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from beatdesk.networks.base import (
    Budget,
    MediaItem,
    NetworkRefused,
    PayloadError,
    PostOptions,
    RateLimited,
    TransientError,
    parse_time,
)
from beatdesk.networks.mastodon import inbound
from beatdesk.networks.mastodon.client import client_for
from beatdesk.networks.mastodon.inbound import MastodonNetwork, html_to_text
from beatdesk.networks.mastodon.publish import ThreadInterrupted, upload_media
from beatdesk.testing.fakenet import (
    FakeNetwork,
    Request,
    Response,
    fake_network,  # noqa: F401
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HANDLE = "@westmerepolice@social.police.example"
TOKEN = "tok-5ecret-not-for-logs"
RESET = "2026-03-14T10:05:00.000000Z"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class FakeInstance:
    """GET /api/v1/notifications as Mastodon answers it: newest first, limit, types[],
    since_id (the newest page above it), min_id (the page just above it), max_id."""

    def __init__(self, fake: FakeNetwork, notifications: list[dict[str, Any]]) -> None:
        self.notifications = notifications
        fake.route("GET", "/api/v1/notifications", self.handle)

    def handle(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return Response(401, {"error": "The access token is invalid"})
        types = request.query.get("types[]") or []
        limit = min(int(request.param("limit") or 20), 40)
        found = sorted(
            (n for n in self.notifications if not types or n["type"] in types),
            key=lambda n: int(n["id"]),
            reverse=True,
        )
        if max_id := request.param("max_id"):
            found = [n for n in found if int(n["id"]) < int(max_id)]
        if since_id := request.param("since_id"):
            found = [n for n in found if int(n["id"]) > int(since_id)]
        if min_id := request.param("min_id"):
            found = [n for n in found if int(n["id"]) > int(min_id)][-limit:]
        headers = {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "299",
            "X-RateLimit-Reset": RESET,
        }
        return Response(200, found[:limit], headers)


def mention(notification_id: int, status_id: int) -> dict[str, Any]:
    """A copy of the first fixture mention with other ids."""
    item = copy.deepcopy(fixture("notifications.json")[2])
    item["id"] = str(notification_id)
    item["status"]["id"] = str(status_id)
    return item


@pytest.fixture
def masto(account, fake_network):  # noqa: F811
    acct = account(HANDLE)
    acct.set_credentials({"instance": fake_network.base_url, "access_token": TOKEN})
    acct.save()
    return acct


# --- fetching -------------------------------------------------------------------------------


def test_fetch_returns_mentions_oldest_first_and_resumes_from_the_newest(masto, fake_network):  # noqa: F811
    page = fixture("notifications.json")
    instance = FakeInstance(fake_network, copy.deepcopy(page))
    # Other notification types are not asked for (types[]=mention) and not returned.
    instance.notifications.append(fixture("notification_favourite.json"))
    network = MastodonNetwork()

    first = network.fetch(masto, "")
    assert [json.loads(b)["id"] for b in first.bodies] == ["41000001", "41000007", "41000012"]
    assert [json.loads(b) for b in first.bodies] == list(reversed(page))  # every field kept
    assert first.cursor == "41000012"
    assert first.budget == Budget(remaining=299, limit=300, resets_at=parse_time(RESET).timestamp())
    sent = fake_network.calls("GET", "/api/v1/notifications")[-1]
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.query["types[]"] == ["mention"]
    assert sent.param("limit") == "40"
    assert sent.param("since_id") is None

    instance.notifications.append(mention(41000020, 114166099999999999))
    second = network.fetch(masto, first.cursor)
    assert fake_network.calls("GET", "/api/v1/notifications")[-1].param("since_id") == "41000012"
    assert [json.loads(b)["id"] for b in second.bodies] == ["41000020"]
    assert second.cursor == "41000020"

    third = network.fetch(masto, second.cursor)
    assert third.bodies == []
    assert third.cursor == "41000020"  # nothing new: the old cursor


def test_a_backlog_is_read_page_by_page_from_the_cursor_without_a_gap(
    masto,
    fake_network,  # noqa: F811
    monkeypatch,
):
    FakeInstance(fake_network, [mention(1000 + i, 5000 + i) for i in range(95)])
    monkeypatch.setattr(inbound, "MAX_PAGES", 2)
    network = MastodonNetwork()

    first = network.fetch(masto, "1000")
    ids = [int(json.loads(b)["id"]) for b in first.bodies]
    assert ids == list(range(1001, 1081))  # the oldest 80 of 94 waiting, in order
    assert first.cursor == "1080"
    calls = fake_network.calls("GET", "/api/v1/notifications")
    assert [(c.param("since_id"), c.param("min_id")) for c in calls] == [
        ("1000", None),
        (None, "1000"),
        (None, "1040"),
    ]

    second = network.fetch(masto, first.cursor)
    assert [int(json.loads(b)["id"]) for b in second.bodies] == list(range(1081, 1095))
    assert second.cursor == "1094"


def test_every_fetched_body_normalises(masto, fake_network):  # noqa: F811
    # The end-to-end path (do_receive_many) needs "mastodon" in the registry; this is the
    # connector's half of it: what fetch returns, normalise reads.
    FakeInstance(fake_network, fixture("notifications.json"))
    network = MastodonNetwork()
    items = [network.normalise(b) for b in network.fetch(masto, "").bodies]
    assert [i.external_id for i in items] == [
        "114166012345678901",
        "114166034567890123",
        "114166056789012345",
    ]
    assert {i.account_handle for i in items} == {masto.handle}


# --- errors ---------------------------------------------------------------------------------


def test_429_is_rate_limited_until_the_reset_time(masto, fake_network):  # noqa: F811
    FakeInstance(fake_network, [])
    reset = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)).isoformat()
    fake_network.fail_next(
        "429",
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset,
        },
    )
    with pytest.raises(RateLimited) as caught:
        MastodonNetwork().fetch(masto, "41000001")
    assert caught.value.retry_after is not None
    assert 100 < caught.value.retry_after <= 120


@pytest.mark.parametrize("kind", ["500", "timeout", "malformed"])
def test_server_errors_timeouts_and_unreadable_answers_are_transient(
    masto,
    fake_network,  # noqa: F811
    kind,
):
    FakeInstance(fake_network, [])
    fake_network.fail_next(kind)
    with pytest.raises(TransientError) as caught:
        MastodonNetwork().fetch(masto, "")
    assert not isinstance(caught.value, RateLimited)
    assert TOKEN not in str(caught.value)


def test_an_answer_that_is_not_a_list_is_transient(masto, fake_network):  # noqa: F811
    fake_network.route("GET", "/api/v1/notifications", {"unexpected": "object"})
    with pytest.raises(TransientError, match="not a list"):
        MastodonNetwork().fetch(masto, "")


def test_a_connection_refused_is_transient(masto):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    masto.set_credentials({"instance": f"http://127.0.0.1:{port}", "access_token": TOKEN})
    with pytest.raises(TransientError):
        MastodonNetwork().fetch(masto, "")


def test_401_is_refused_with_the_instances_reason(masto, fake_network):  # noqa: F811
    FakeInstance(fake_network, [])
    masto.set_credentials({"instance": fake_network.base_url, "access_token": "revoked"})
    with pytest.raises(NetworkRefused) as caught:
        MastodonNetwork().fetch(masto, "")
    message = str(caught.value)
    assert "401" in message and "The access token is invalid" in message
    assert "revoked" not in message


@pytest.mark.parametrize("status", [403, 404])
def test_forbidden_and_not_found_are_refused(masto, fake_network, status):  # noqa: F811
    fake_network.route("GET", "/api/v1/notifications", Response(status, {"error": "nope"}))
    with pytest.raises(NetworkRefused, match=str(status)):
        MastodonNetwork().fetch(masto, "")


@pytest.mark.parametrize(
    "credentials",
    [{}, {"instance": "social.police.example", "access_token": TOKEN}, {"instance": "https://x"}],
)
def test_missing_or_unusable_credentials_are_refused(masto, credentials):
    masto.set_credentials(credentials)
    with pytest.raises(NetworkRefused):
        MastodonNetwork().fetch(masto, "")


# --- normalising ----------------------------------------------------------------------------


def test_a_mention_normalises_to_plain_text_with_its_media():
    body = json.dumps(fixture("notifications.json")[2])
    item = MastodonNetwork().normalise(body)
    assert item.network == "mastodon"
    assert item.external_id == "114166012345678901"
    assert item.author_handle == "@jo_bloggs@mastodon.social"
    assert item.author_name == "Jo Bloggs 🚲"
    assert item.text == (
        "@westmerepolice There's a car parked on the pavement outside 14 Dudley Road again,\n"
        "blocking the buggy route to the school.\n"
        "\n"
        "Third time this week & nobody's moved it. #DudleyRoad"
    )
    assert item.created_at == dt.datetime(2026, 3, 14, 10, 2, 11, 123000, tzinfo=dt.UTC)
    assert item.reply_to == ""
    assert item.language == "en"
    assert item.account_handle == HANDLE
    assert item.attachments == [
        {
            "type": "image",
            "url": "https://social.police.example/system/cache/media_attachments/files/114/166/000"
            "/000/000/321/original/5f1c0b6e2a9d3c47.jpeg",
            "description": "A silver hatchback parked across the dropped kerb outside number 14",
        }
    ]


def test_a_reply_keeps_its_parent_and_links_keep_their_whole_address():
    item = MastodonNetwork().normalise(json.dumps(fixture("notifications.json")[1]))
    assert item.author_handle == "@sam"
    assert item.author_name == "Sam Okafor"
    assert item.reply_to == "114165990000000555"
    assert item.text == (
        "@westmerepolice thanks for the update on the closure. Is it still on for tonight? "
        "https://www.westmere.gov.example/roadworks/dudley-road-closure-2026"
    )
    assert item.attachments == []


def test_a_direct_message_arrives_as_a_mention_without_a_language():
    item = MastodonNetwork().normalise(json.dumps(fixture("notifications.json")[0]))
    assert item.external_id == "114166056789012345"
    assert item.language == ""
    assert item.text == (
        "@westmerepolice I'd rather not post this publicly <3 — who do I speak to about the "
        "lights on the underpass?"
    )


def test_a_bare_status_normalises_too():
    item = MastodonNetwork().normalise(json.dumps(fixture("status_created.json")))
    assert item.external_id == "114166070000000777"
    assert item.author_handle == "@westmerepolice"
    assert item.reply_to == "114166034567890123"
    assert item.account_handle == "@sam@social.police.example"


def test_a_content_warning_is_kept_in_front_of_the_text():
    status = fixture("status_created.json")
    status["spoiler_text"] = "road closure"
    item = MastodonNetwork().normalise(json.dumps(status))
    assert item.text.startswith("CW: road closure\n\n@sam Yes, the closure")


def _without(path: str) -> str:
    record = fixture("notifications.json")[2]
    *parents, last = path.split(".")
    target = record
    for key in parents:
        target = target[key]
    del target[last]
    return json.dumps(record)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not JSON"),
        ("[]", "JSON object"),
        (json.dumps(fixture("notification_favourite.json")), "not a mention"),
        (_without("status"), "without its status"),
        (_without("status.id"), "no id"),
        (_without("status.account"), "no author"),
        (_without("status.created_at"), "unreadable time"),
        (json.dumps({"hello": "world"}), "neither"),
    ],
)
def test_an_unreadable_delivery_is_a_payload_error(body, reason):
    with pytest.raises(PayloadError, match=reason):
        MastodonNetwork().normalise(body)


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>one<br>two<br />three</p>", "one\ntwo\nthree"),
        ("<p>first</p><p>second</p>", "first\n\nsecond"),
        ("<p>&lt;b&gt; &amp; &quot;q&quot; &#39;s&#39; caf&eacute;</p>", "<b> & \"q\" 's' café"),
        ("plain text", "plain text"),
        ("", ""),
    ],
)
def test_html_to_text(markup, text):
    assert html_to_text(markup) == text


# --- publishing -----------------------------------------------------------------------------


def test_publish_posts_the_reply_with_an_idempotency_key(masto, fake_network):  # noqa: F811
    fake_network.route("POST", "/api/v1/statuses", fixture("status_created.json"))
    fake_network.route(
        "GET",
        "/api/v1/statuses/114166034567890123",
        {"id": "114166034567890123", "visibility": "public"},
    )
    network = MastodonNetwork()
    status_id = network.publish(
        masto,
        "@sam Yes, the closure starts at 7pm tonight.",
        PostOptions(reply_to="114166034567890123", idempotency_key="beatdesk-reply-42"),
    )
    assert status_id == "114166070000000777"
    (sent,) = fake_network.calls("POST", "/api/v1/statuses")
    assert sent.json() == {
        "status": "@sam Yes, the closure starts at 7pm tonight.",
        "in_reply_to_id": "114166034567890123",
        "visibility": "public",
    }
    assert sent.headers["idempotency-key"] == "beatdesk-reply-42"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"


def test_a_reply_to_a_direct_message_is_direct_never_public(masto, fake_network):  # noqa: F811
    fake_network.route("POST", "/api/v1/statuses", fixture("status_created.json"))
    fake_network.route("GET", "/api/v1/statuses/555", {"id": "555", "visibility": "direct"})
    MastodonNetwork().publish(
        masto, "@sam we have passed this to your local team.", PostOptions(reply_to="555")
    )
    (sent,) = fake_network.calls("POST", "/api/v1/statuses")
    assert sent.json()["visibility"] == "direct"


def test_without_a_key_the_same_post_gets_the_same_key(masto, fake_network):  # noqa: F811
    fake_network.route("POST", "/api/v1/statuses", fixture("status_created.json"))
    network = MastodonNetwork()
    network.publish(masto, "Dudley Road reopens at 6am.")
    network.publish(masto, "Dudley Road reopens at 6am.")
    network.publish(masto, "Dudley Road reopens at 7am.")
    keys = [r.headers["idempotency-key"] for r in fake_network.calls("POST", "/api/v1/statuses")]
    assert keys[0] == keys[1] != keys[2]
    assert "in_reply_to_id" not in fake_network.calls("POST", "/api/v1/statuses")[0].json()


def test_publish_refuses_more_than_500_characters(masto, fake_network):  # noqa: F811
    fake_network.route("POST", "/api/v1/statuses", fixture("status_created.json"))
    network = MastodonNetwork()
    with pytest.raises(ValueError, match="at most 500 characters; this one has 501"):
        network.publish(masto, "x" * 501)
    with pytest.raises(ValueError, match="needs some text"):
        network.publish(masto, "   ")
    assert fake_network.calls("POST", "/api/v1/statuses") == []
    assert network.publish(masto, "x" * 500) == "114166070000000777"
    # Counted as the instance counts: a link is 23 characters however long, and a remote
    # mention only its local part, so this 628-character status is 500 long.
    link = "https://www.westmere.police.uk/news/" + "a" * 100
    counted = "@sam@social.example " + "x" * (500 - 23 - 6) + " " + link
    assert len(counted) > 600
    assert network.publish(masto, counted) == "114166070000000777"


def test_publish_errors(masto, fake_network):  # noqa: F811
    fake_network.route(
        "POST",
        "/api/v1/statuses",
        Response(422, {"error": "Validation failed: Text can't be blank"}),
    )
    network = MastodonNetwork()
    with pytest.raises(NetworkRefused, match="Validation failed"):
        network.publish(masto, "hello")
    fake_network.fail_next("500")
    with pytest.raises(TransientError):
        network.publish(masto, "hello")
    fake_network.route("POST", "/api/v1/statuses", {"no": "id"})
    with pytest.raises(TransientError, match="no status id"):
        network.publish(masto, "hello")


def test_fetched_mentions_become_messages_through_the_one_ingestion_path(
    masto,
    fake_network,  # noqa: F811
):
    from beatdesk.inbox.models import Message
    from beatdesk.networks.actions import do_fetch

    FakeInstance(fake_network, fixture("notifications.json"))
    outcome = do_fetch(masto)
    assert outcome.status == "fetched" and outcome.stored == outcome.fetched == 3
    assert Message.objects.filter(network="mastodon", account=masto).count() == 3
    assert do_fetch(masto, force=True).stored == 0


def test_the_stream_back_fills_then_takes_live_mentions_and_reconnects(
    masto,
    fake_network,  # noqa: F811
):
    from beatdesk.inbox.models import Message
    from beatdesk.networks.mastodon.stream import STREAM_PATH, listen

    notifications = fixture("notifications.json")
    FakeInstance(fake_network, notifications[:2])
    live = copy.deepcopy(notifications[2])
    favourite = fixture("notification_favourite.json")
    sse = (
        ":thump\n\n"
        f"event: notification\ndata: {json.dumps(favourite)}\n\n"
        f"event: notification\ndata: {json.dumps(live)}\n\n"
        f"event: update\ndata: {json.dumps(live['status'])}\n\n"
    )
    fake_network.route(
        "GET", STREAM_PATH, Response(200, sse, {"Content-Type": "text/event-stream"})
    )
    waits: list[float] = []
    taken = listen(masto, connections=2, sleep=waits.append)
    assert taken == 1  # the live mention; the second connection's copy is a duplicate
    assert Message.objects.filter(network="mastodon").count() == 3
    assert len(fake_network.calls("GET", STREAM_PATH)) == 2
    stream_request = fake_network.calls("GET", STREAM_PATH)[0]
    assert stream_request.headers["authorization"] == f"Bearer {TOKEN}"


# --- images with alt text, visibility and threads -------------------------------------------

IMAGE = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00 a tiny stand-in for a JPEG \xff\xd9"
ALT = "Map of Dudley Road showing the closed section between the school and the underpass"


class FakeStatuses:
    """POST /api/v1/statuses answering each new status with a new id (optionally failing one
    call), and POST /api/v2/media answering each upload with a new media id."""

    def __init__(self, fake: FakeNetwork, *, fail_on: int = 0, fail_status: int = 500) -> None:
        self.count = 0
        self.uploads = 0
        self.fail_on = fail_on
        self.fail_status = fail_status
        fake.route("POST", "/api/v1/statuses", self.status)
        fake.route("POST", "/api/v2/media", self.media)

    def status(self, request: Request) -> Response:
        self.count += 1
        if self.count == self.fail_on:
            return Response(self.fail_status, {"error": "Something went wrong"})
        body = fixture("status_created.json")
        body["id"] = str(200 + self.count)
        body["in_reply_to_id"] = request.json().get("in_reply_to_id")
        return Response(200, body)

    def media(self, request: Request) -> Response:
        self.uploads += 1
        body = fixture("media_attachment.json")
        body["id"] = str(900 + self.uploads)
        return Response(200, body)


def test_upload_media_sends_the_file_and_its_alt_text_as_multipart(masto, fake_network):  # noqa: F811
    fake_network.route("POST", "/api/v2/media", fixture("media_attachment.json"))
    media_id = upload_media(client_for(masto), IMAGE, "closure-map.jpg", "image/jpeg", ALT)
    assert media_id == "114166080000000123"
    (sent,) = fake_network.calls("POST", "/api/v2/media")
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert b'name="file"; filename="closure-map.jpg"' in sent.body
    assert b"Content-Type: image/jpeg" in sent.body
    assert IMAGE in sent.body
    assert b'name="description"' in sent.body
    assert ALT.encode() in sent.body
    assert fake_network.calls("GET", "/api/v1/media/114166080000000123") == []  # 200: done


def test_a_202_upload_is_polled_until_its_url_is_set(masto, fake_network):  # noqa: F811
    processing = fixture("media_attachment.json")
    processed = copy.deepcopy(processing)
    processing["url"] = None
    fake_network.route("POST", "/api/v2/media", Response(202, processing))
    answers = [Response(206, processing), Response(200, processed)]
    fake_network.route("GET", "/api/v1/media/114166080000000123", lambda r: answers.pop(0))
    waits: list[float] = []
    media_id = upload_media(
        client_for(masto), IMAGE, "closure-map.jpg", "image/jpeg", ALT, sleep=waits.append
    )
    assert media_id == "114166080000000123"
    assert len(fake_network.calls("GET", "/api/v1/media/114166080000000123")) == 2
    assert len(waits) == 2


def test_an_upload_never_processed_is_transient_after_five_checks(masto, fake_network):  # noqa: F811
    processing = fixture("media_attachment.json")
    processing["url"] = None
    fake_network.route("POST", "/api/v2/media", Response(202, processing))
    fake_network.route("GET", "/api/v1/media/114166080000000123", Response(206, processing))
    with pytest.raises(TransientError, match="still being processed"):
        upload_media(
            client_for(masto), IMAGE, "a.jpg", "image/jpeg", ALT, sleep=lambda seconds: None
        )
    assert len(fake_network.calls("GET", "/api/v1/media/114166080000000123")) == 5


def test_an_image_without_alt_text_is_refused_before_any_request(masto, fake_network):  # noqa: F811
    FakeStatuses(fake_network)
    client = client_for(masto)
    for missing in ["", "   \n"]:
        with pytest.raises(ValueError, match="needs alt text"):
            upload_media(client, IMAGE, "closure-map.jpg", "image/jpeg", missing)
    with pytest.raises(ValueError, match="needs alt text"):
        MastodonNetwork().publish(
            masto,
            "Dudley Road is closed tonight.",
            PostOptions(
                media=tuple(
                    MediaItem(*m)
                    for m in [
                        (IMAGE, "one.jpg", "image/jpeg", ALT),
                        (IMAGE, "two.jpg", "image/jpeg", ""),
                    ]
                )
            ),
        )
    assert fake_network.requests == []  # not even the first, described, image


def test_a_status_with_images_carries_their_media_ids(masto, fake_network):  # noqa: F811
    FakeStatuses(fake_network)
    fake_network.route("GET", "/api/v1/statuses/555", {"id": "555", "visibility": "public"})
    status_id = MastodonNetwork().publish(
        masto,
        "@sam here is the diversion.",
        PostOptions(
            reply_to="555",
            media=tuple(
                MediaItem(*m)
                for m in [
                    (IMAGE, "map.jpg", "image/jpeg", ALT),
                    (b"\x89PNG\r\n\x1a\n...", "sign.png", "image/png", "The yellow diversion sign"),
                ]
            ),
        ),
    )
    assert status_id == "201"
    assert len(fake_network.calls("POST", "/api/v2/media")) == 2
    (sent,) = fake_network.calls("POST", "/api/v1/statuses")
    assert sent.json() == {
        "status": "@sam here is the diversion.",
        "in_reply_to_id": "555",
        "visibility": "public",
        "media_ids": ["901", "902"],
    }


def test_images_change_the_default_idempotency_key(masto, fake_network):  # noqa: F811
    FakeStatuses(fake_network)
    network = MastodonNetwork()
    network.publish(
        masto,
        "Closure map.",
        PostOptions(media=tuple(MediaItem(*m) for m in [(IMAGE, "a.jpg", "image/jpeg", ALT)])),
    )
    network.publish(
        masto,
        "Closure map.",
        PostOptions(media=tuple(MediaItem(*m) for m in [(IMAGE, "a.jpg", "image/jpeg", ALT)])),
    )
    network.publish(
        masto,
        "Closure map.",
        PostOptions(
            media=tuple(MediaItem(*m) for m in [(IMAGE, "a.jpg", "image/jpeg", ALT + ".")])
        ),
    )
    network.publish(masto, "Closure map.")
    keys = [r.headers["idempotency-key"] for r in fake_network.calls("POST", "/api/v1/statuses")]
    assert keys[0] == keys[1]  # a retry of the same post (new uploads, same status)
    assert len({keys[0], keys[2], keys[3]}) == 3


def test_more_than_four_images_are_refused(masto, fake_network):  # noqa: F811
    FakeStatuses(fake_network)
    with pytest.raises(ValueError, match="at most 4 images"):
        MastodonNetwork().publish(
            masto,
            "x",
            PostOptions(
                media=tuple(MediaItem(*m) for m in [(IMAGE, "a.jpg", "image/jpeg", ALT)] * 5)
            ),
        )
    assert fake_network.requests == []


@pytest.mark.parametrize(
    ("parent", "asked", "sent"),
    [
        (None, None, "public"),
        (None, "unlisted", "unlisted"),
        ("public", "private", "private"),  # an explicit visibility may narrow
        ("private", "public", "private"),  # but never widen the parent's
        ("direct", "unlisted", "direct"),
        ("unlisted", None, "unlisted"),
    ],
)
def test_an_explicit_visibility_only_narrows(masto, fake_network, parent, asked, sent):  # noqa: F811
    FakeStatuses(fake_network)
    fake_network.route("GET", "/api/v1/statuses/555", {"id": "555", "visibility": parent})
    MastodonNetwork().publish(
        masto, "hello", PostOptions(reply_to="555" if parent else "", visibility=asked)
    )
    assert fake_network.calls("POST", "/api/v1/statuses")[0].json()["visibility"] == sent


def test_an_unknown_visibility_is_refused(masto, fake_network):  # noqa: F811
    with pytest.raises(ValueError, match="unknown Mastodon visibility"):
        MastodonNetwork().publish(masto, "hello", PostOptions(visibility="followers"))
    assert fake_network.requests == []


def test_a_thread_replies_to_each_part_with_its_own_key(masto, fake_network):  # noqa: F811
    FakeStatuses(fake_network)
    parts = ["1/3 Dudley Road closes at 7pm.", "2/3 Diversion via Mill Lane.", "3/3 Reopens 6am."]
    ids = MastodonNetwork().publish_thread(masto, parts, idempotency_key="beatdesk-thread-7")
    assert ids == ["201", "202", "203"]
    sent = fake_network.calls("POST", "/api/v1/statuses")
    assert [r.json()["status"] for r in sent] == parts
    assert "in_reply_to_id" not in sent[0].json()
    assert [r.json().get("in_reply_to_id") for r in sent[1:]] == ["201", "202"]
    keys = [r.headers["idempotency-key"] for r in sent]
    assert len(set(keys)) == 3
    assert all(key.startswith("beatdesk-thread-7-") for key in keys)

    # Without a key, the same thread gets the same keys again (a retry posts nothing twice).
    MastodonNetwork().publish_thread(masto, parts)
    MastodonNetwork().publish_thread(masto, parts)
    later = [r.headers["idempotency-key"] for r in fake_network.calls("POST", "/api/v1/statuses")]
    assert later[3:6] == later[6:9]
    assert len(set(later[3:6])) == 3 and not set(later[3:6]) & set(keys)


def test_an_over_length_part_is_refused_before_anything_is_sent(masto, fake_network):  # noqa: F811
    FakeStatuses(fake_network)
    with pytest.raises(ValueError, match="part 2 of 3 of the thread: .* at most 500 characters"):
        MastodonNetwork().publish_thread(masto, ["first", "x" * 501, "third"])
    with pytest.raises(ValueError, match="at least one post"):
        MastodonNetwork().publish_thread(masto, [])
    assert fake_network.requests == []


def test_a_failure_on_part_two_reports_part_ones_id(masto, fake_network):  # noqa: F811
    FakeStatuses(fake_network, fail_on=2)
    with pytest.raises(ThreadInterrupted, match="part 2 of 3") as caught:
        MastodonNetwork().publish_thread(masto, ["one", "two", "three"], idempotency_key="k")
    assert caught.value.posted == ["201"]
    assert isinstance(caught.value.__cause__, TransientError)
    assert len(fake_network.calls("POST", "/api/v1/statuses")) == 2  # part 3 never sent


def test_a_failure_on_part_one_is_the_plain_error(masto, fake_network):  # noqa: F811
    FakeStatuses(fake_network, fail_on=1, fail_status=422)
    with pytest.raises(NetworkRefused, match="Something went wrong"):
        MastodonNetwork().publish_thread(masto, ["one", "two"])


def test_the_poller_waits_until_the_instances_reset_time(masto, fake_network):  # noqa: F811
    from beatdesk.networks.actions import do_fetch
    from beatdesk.networks.models import ChannelHealth

    FakeInstance(fake_network, [])
    reset = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=300)
    fake_network.fail_next("429", headers={"X-RateLimit-Reset": reset.isoformat()})
    assert do_fetch(masto).status == "failed"
    assert ChannelHealth.objects.get(account=masto).next_attempt_at >= reset - dt.timedelta(
        seconds=2
    )
    assert do_fetch(masto).status == "waiting"
