"""The Bluesky connector against a real HTTP fake of the XRPC API, with lexicon-shaped payloads."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest

from beatdesk.audit.models import AuditEvent
from beatdesk.networks.base import (
    MediaItem,
    NetworkRefused,
    PayloadError,
    PostOptions,
    RateLimited,
    TransientError,
)
from beatdesk.networks.bluesky.inbound import (
    BlueskyNetwork,
    Position,
    _fingerprint,
    read_cursor,
    write_cursor,
)
from beatdesk.networks.bluesky.publish import (
    MAX_IMAGE_BYTES,
    ThreadInterrupted,
    count_graphemes,
    detect_facets,
    image_size,
)
from beatdesk.networks.models import NetworkAccount
from beatdesk.testing.fakenet import (
    FakeNetwork,
    Request,
    Response,
    fake_network,  # noqa: F401
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HANDLE = "westmerepolice.bsky.social"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
SESSION_PATH = "/xrpc/com.atproto.server.createSession"
NOTIFICATIONS_PATH = "/xrpc/app.bsky.notification.listNotifications"
CREATE_PATH = "/xrpc/com.atproto.repo.createRecord"
GET_POSTS_PATH = "/xrpc/app.bsky.feed.getPosts"
RESOLVE_PATH = "/xrpc/com.atproto.identity.resolveHandle"
REFRESH_PATH = "/xrpc/com.atproto.server.refreshSession"
GET_RECORD_PATH = "/xrpc/com.atproto.repo.getRecord"
UPLOAD_PATH = "/xrpc/com.atproto.repo.uploadBlob"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


SESSION = fixture("create_session")
REFRESHED = {**SESSION, "accessJwt": "refreshed-access-jwt", "refreshJwt": "refreshed-refresh-jwt"}
PAGES = {
    None: fixture("list_notifications_page1"),
    "2026-03-14T10:01:00.000Z": fixture("list_notifications_page2"),
    "2026-03-14T08:50:00.000Z": fixture("list_notifications_page3"),
}
RATE_HEADERS = {"RateLimit-Limit": "3000", "RateLimit-Remaining": "2987", "RateLimit-Reset": ""}


def bluesky_account(account, fake: FakeNetwork, password: str = APP_PASSWORD):
    acc = account(HANDLE)
    acc.set_credentials({"service": fake.base_url, "identifier": HANDLE, "app_password": password})
    acc.save()
    return acc


def session_route(request: Request) -> Response:
    body = request.json()
    if body == {"identifier": HANDLE, "password": APP_PASSWORD}:
        return Response(200, SESSION)
    return Response(
        401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
    )


def notifications_route(request: Request) -> Response:
    tokens = {f"Bearer {SESSION['accessJwt']}", f"Bearer {REFRESHED['accessJwt']}"}
    if request.headers.get("authorization") not in tokens:
        return Response(401, {"error": "AuthenticationRequired", "message": "Invalid token"})
    page = PAGES.get(request.param("cursor"))
    if page is None:
        return Response(200, {"notifications": []})
    headers = dict(RATE_HEADERS, **{"RateLimit-Reset": str(int(time.time()) + 300)})
    return Response(200, page, headers)


@pytest.fixture
def bsky(fake_network: FakeNetwork) -> FakeNetwork:  # noqa: F811
    fake_network.route("POST", SESSION_PATH, session_route)
    fake_network.route("GET", NOTIFICATIONS_PATH, notifications_route)
    return fake_network


def uris(bodies: list[str]) -> list[str]:
    return [json.loads(b)["uri"] for b in bodies]


def page_uri(page: str | None, index: int) -> str:
    return str(PAGES[page]["notifications"][index]["uri"])


# -- fetching ------------------------------------------------------------------------------


def test_fetch_signs_in_then_reads_notifications_with_the_session_token(bsky, account):
    acc = bluesky_account(account, bsky)
    result = BlueskyNetwork().fetch(acc, "2026-03-14T09:00:00.000Z")

    [login] = bsky.calls("POST", SESSION_PATH)
    assert login.json() == {"identifier": HANDLE, "password": APP_PASSWORD}
    listing = bsky.calls("GET", NOTIFICATIONS_PATH)
    assert listing[0].headers["authorization"] == f"Bearer {SESSION['accessJwt']}"
    assert listing[0].param("limit") == "50"
    assert result.budget.limit == 3000 and result.budget.remaining == 2987
    assert result.budget.resets_at is not None and result.budget.resets_at > time.time()


def fingerprints(*uris_: str) -> dict[str, int]:
    at = int(dt.datetime(2026, 3, 14, 8, tzinfo=dt.UTC).timestamp())
    return {_fingerprint(uri): at for uri in uris_}


def test_fetch_takes_mentions_replies_and_quotes_not_handed_over_before_oldest_first(bsky, account):
    acc = bluesky_account(account, bsky)
    handed = [page_uri("2026-03-14T10:01:00.000Z", i) for i in (2, 3)]
    handed.append(page_uri("2026-03-14T08:50:00.000Z", 0))
    cursor = write_cursor(
        Position(dt.datetime(2026, 3, 14, 9, tzinfo=dt.UTC), fingerprints(*handed))
    )
    result = BlueskyNetwork().fetch(acc, cursor)

    assert uris(result.bodies) == [
        page_uri("2026-03-14T10:01:00.000Z", 0),  # mention 09:30 (page 2)
        page_uri(None, 4),  # quote 10:01
        page_uri(None, 2),  # mention 10:03
        page_uri(None, 0),  # reply 10:05
    ]
    assert [json.loads(b)["reason"] for b in result.bodies] == [
        "mention",
        "quote",
        "mention",
        "reply",
    ]
    # Only mentions, replies and quotes are asked for.
    asked = bsky.calls("GET", NOTIFICATIONS_PATH)[0].query["reasons"]
    assert sorted(asked) == ["mention", "quote", "reply"]
    position = read_cursor(result.cursor)
    assert position is not None
    assert position.at == dt.datetime(2026, 3, 14, 10, 5, 0, 412000, tzinfo=dt.UTC)
    assert set(position.seen) == {_fingerprint(u) for u in handed + uris(result.bodies)}
    # Bodies are the network's JSON for each item.
    assert json.loads(result.bodies[-1]) == PAGES[None]["notifications"][0]


def test_paging_follows_the_api_cursor_and_stops_at_the_overlap_window(bsky, account):
    acc = bluesky_account(account, bsky)
    # 24 hours on from 08:55: the window reaches back to 08:55, inside page 2.
    BlueskyNetwork().fetch(acc, "2026-03-15T08:55:00.000Z")

    asked = [r.param("cursor") for r in bsky.calls("GET", NOTIFICATIONS_PATH)]
    assert asked == [None, "2026-03-14T10:01:00.000Z"]  # page 3 never asked for


def test_the_cursor_advances_and_a_second_fetch_takes_nothing_old(bsky, account):
    acc = bluesky_account(account, bsky)
    network = BlueskyNetwork()
    first = network.fetch(acc, "2026-03-14T09:00:00.000Z")
    again = network.fetch(acc, first.cursor)

    # A bare-time cursor (before the overlap window) says nothing of what was handed over:
    # the whole window comes again, and ingestion drops what it already has.
    assert len(first.bodies) == 7
    assert again.bodies == []
    assert again.cursor == first.cursor
    # The session is kept between fetches of one connector.
    assert len(bsky.calls("POST", SESSION_PATH)) == 1


def test_a_backdated_mention_behind_the_cursor_is_still_fetched(bsky, account):
    """The AppView sorts by the post's own createdAt when it is earlier than its indexing, so
    a mention written offline arrives behind what the desk has already read."""
    acc = bluesky_account(account, bsky)
    network = BlueskyNetwork()
    first = network.fetch(acc, "")
    assert len(first.bodies) == 3

    late = json.loads(json.dumps(PAGES[None]["notifications"][2]))
    late["uri"] = late["uri"][:-4] + "late"
    late["record"]["text"] = "@westmerepolice.bsky.social written on the train, no signal"
    # Indexed after the first fetch, sorted by its createdAt: behind the 10:05 cursor.
    late["record"]["createdAt"] = late["indexedAt"] = "2026-03-14T10:02:30.000Z"
    page = {k: v for k, v in PAGES[None].items() if k != "cursor"}  # the whole history
    page["notifications"] = [
        *PAGES[None]["notifications"][:3],
        late,
        *PAGES[None]["notifications"][3:],
    ]
    bsky.route(
        "GET",
        NOTIFICATIONS_PATH,
        lambda r: Response(200, page) if r.param("cursor") is None else notifications_route(r),
    )
    second = network.fetch(acc, first.cursor)

    assert uris(second.bodies) == [late["uri"]]
    assert network.fetch(acc, second.cursor).bodies == []


def test_a_first_fetch_takes_the_most_recent_page_only(bsky, account):
    acc = bluesky_account(account, bsky)
    network = BlueskyNetwork()
    result = network.fetch(acc, "")

    assert uris(result.bodies) == [page_uri(None, 4), page_uri(None, 2), page_uri(None, 0)]
    assert len(bsky.calls("GET", NOTIFICATIONS_PATH)) == 1


def test_behind_a_full_first_page_is_history_never_taken(bsky, account):
    acc = bluesky_account(account, bsky)
    mention = PAGES[None]["notifications"][2]
    full = {
        "cursor": "2026-03-14T10:01:00.000Z",
        "notifications": [
            {
                **mention,
                "uri": f"{mention['uri'][:-4]}{n:04d}",
                "indexedAt": f"2026-03-14T10:{59 - n:02d}:00.000Z",
            }
            for n in range(50)
        ],
    }
    bsky.route(
        "GET",
        NOTIFICATIONS_PATH,
        lambda r: Response(200, full) if r.param("cursor") is None else notifications_route(r),
    )
    network = BlueskyNetwork()
    first = network.fetch(acc, "")
    assert len(first.bodies) == 50
    # Pages 2 and 3 lie behind the first fetch: the account's history, never taken.
    assert network.fetch(acc, first.cursor).bodies == []


# -- sessions ------------------------------------------------------------------------------


def refresh_route(request: Request) -> Response:
    if request.headers.get("authorization") != f"Bearer {SESSION['refreshJwt']}":
        return Response(400, {"error": "ExpiredToken", "message": "Token has been revoked"})
    return Response(200, REFRESHED)


def expiring_once(then=None):
    """listNotifications refusing the first call's token as expired, then answering."""
    calls = {"n": 0}

    def handler(request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return Response(400, {"error": "ExpiredToken", "message": "Token has expired"})
        return (then or notifications_route)(request)

    return handler


def only_refreshed_token(request: Request) -> Response:
    if request.headers.get("authorization") != f"Bearer {REFRESHED['accessJwt']}":
        return Response(400, {"error": "ExpiredToken", "message": "Token has expired"})
    return Response(200, PAGES[None])


def test_an_expired_token_is_refreshed_not_signed_in_again(bsky, account):
    acc = bluesky_account(account, bsky)
    bsky.route("POST", REFRESH_PATH, refresh_route)
    network = BlueskyNetwork()
    network.fetch(acc, "")
    bsky.route("GET", NOTIFICATIONS_PATH, expiring_once())
    result = network.fetch(acc, "")

    assert len(result.bodies) == 3
    assert len(bsky.calls("POST", SESSION_PATH)) == 1
    [refresh] = bsky.calls("POST", REFRESH_PATH)
    assert refresh.headers["authorization"] == f"Bearer {SESSION['refreshJwt']}"
    retried = bsky.calls("GET", NOTIFICATIONS_PATH)[-1]
    assert retried.headers["authorization"] == f"Bearer {REFRESHED['accessJwt']}"


def test_the_session_is_kept_across_processes_encrypted(bsky, account):
    acc = bluesky_account(account, bsky)
    for _process in range(3):  # each a new connector, as each `poll --once` from cron is
        BlueskyNetwork().fetch(NetworkAccount.objects.get(pk=acc.pk), "")

    assert len(bsky.calls("POST", SESSION_PATH)) == 1
    stored = bytes(NetworkAccount.objects.get(pk=acc.pk).credentials_encrypted)
    assert SESSION["accessJwt"].encode() not in stored
    assert SESSION["refreshJwt"].encode() not in stored
    assert AuditEvent.objects.filter(action="account.session_kept").count() == 1


def test_a_session_renewed_by_another_process_is_taken_without_refreshing(bsky, account):
    acc = bluesky_account(account, bsky)
    bsky.route("POST", REFRESH_PATH, refresh_route)
    first, second = BlueskyNetwork(), BlueskyNetwork()
    first.fetch(acc, "")
    second.fetch(NetworkAccount.objects.get(pk=acc.pk), "")  # reads the stored session
    # The token expires: the first process refreshes and keeps the new session.
    bsky.route("GET", NOTIFICATIONS_PATH, only_refreshed_token)
    first.fetch(acc, "")
    # The second still holds the old token: refused, it takes the stored one.
    assert len(second.fetch(NetworkAccount.objects.get(pk=acc.pk), "").bodies) == 3

    assert len(bsky.calls("POST", SESSION_PATH)) == 1
    assert len(bsky.calls("POST", REFRESH_PATH)) == 1


def test_a_spent_refresh_token_signs_in_again(bsky, account):
    acc = bluesky_account(account, bsky)
    revoked = Response(400, {"error": "ExpiredToken", "message": "Token has been revoked"})
    bsky.route("POST", REFRESH_PATH, revoked)
    network = BlueskyNetwork()
    network.fetch(acc, "")
    bsky.route("GET", NOTIFICATIONS_PATH, expiring_once())

    assert len(network.fetch(acc, "").bodies) == 3
    assert len(bsky.calls("POST", REFRESH_PATH)) == 1
    assert len(bsky.calls("POST", SESSION_PATH)) == 2


def test_new_credentials_never_reuse_the_old_session(bsky, account):
    acc = bluesky_account(account, bsky)
    BlueskyNetwork().fetch(acc, "")
    acc = NetworkAccount.objects.get(pk=acc.pk)
    credentials = acc.get_credentials()
    assert "session" in credentials
    acc.set_credentials({**credentials, "app_password": "wxyz-wxyz-wxyz-wxyz"})
    acc.save()
    with pytest.raises(NetworkRefused, match="Invalid identifier or password"):
        BlueskyNetwork().fetch(acc, "")
    assert len(bsky.calls("POST", SESSION_PATH)) == 2


def test_a_token_refused_even_after_a_new_session_is_refused_for_good(bsky, account):
    acc = bluesky_account(account, bsky)
    bsky.route(
        "GET",
        NOTIFICATIONS_PATH,
        Response(400, {"error": "ExpiredToken", "message": "Token has expired"}),
    )
    with pytest.raises(NetworkRefused, match="ExpiredToken"):
        BlueskyNetwork().fetch(acc, "")


# -- errors --------------------------------------------------------------------------------


def test_429_is_rate_limited_until_the_reset(bsky, account):
    acc = bluesky_account(account, bsky)
    reset = int(time.time()) + 120
    bsky.fail_next(
        "429",
        headers={
            "RateLimit-Limit": "3000",
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(reset),
        },
    )
    with pytest.raises(RateLimited) as caught:
        BlueskyNetwork().fetch(acc, "")
    assert caught.value.retry_after is not None
    assert 110 <= caught.value.retry_after <= 120


def test_429_on_the_notifications_call_too(bsky, account):
    acc = bluesky_account(account, bsky)
    network = BlueskyNetwork()
    network.fetch(acc, "")  # signs in
    bsky.fail_next("429", headers={"RateLimit-Reset": str(int(time.time()) + 30)})
    with pytest.raises(RateLimited) as caught:
        network.fetch(acc, "")
    assert caught.value.retry_after is not None and 20 <= caught.value.retry_after <= 30


@pytest.mark.parametrize("kind", ["500", "timeout", "malformed"])
def test_server_errors_timeouts_and_malformed_answers_are_transient(bsky, account, kind):
    acc = bluesky_account(account, bsky)
    network = BlueskyNetwork()
    network.fetch(acc, "")  # signs in, so the failure lands on listNotifications
    bsky.fail_next(kind)
    started = time.monotonic()
    with pytest.raises(TransientError) as caught:
        network.fetch(acc, "")
    assert not isinstance(caught.value, RateLimited)
    assert time.monotonic() - started < 2.9  # gave up before the fake's 3 s
    assert APP_PASSWORD not in str(caught.value)


def test_a_connection_refused_is_transient(account, bsky):
    acc = account(HANDLE)
    acc.set_credentials(
        {"service": "http://127.0.0.1:9", "identifier": HANDLE, "app_password": APP_PASSWORD}
    )
    with pytest.raises(TransientError):
        BlueskyNetwork().fetch(acc, "")


def test_a_bad_app_password_is_refused_clearly(bsky, account):
    acc = bluesky_account(account, bsky, password="wrong-pass-word-here")
    with pytest.raises(NetworkRefused) as caught:
        BlueskyNetwork().fetch(acc, "")
    message = str(caught.value)
    assert "Invalid identifier or password" in message and "app password" in message
    assert "wrong-pass-word-here" not in message
    assert bsky.calls("GET", NOTIFICATIONS_PATH) == []


def test_missing_credentials_are_refused(account):
    acc = account(HANDLE)
    with pytest.raises(NetworkRefused, match="app_password"):
        BlueskyNetwork().fetch(acc, "")


# -- normalising ---------------------------------------------------------------------------


def test_a_reply_is_normalised_with_its_parent_root_and_image():
    item = PAGES[None]["notifications"][0]
    inbound = BlueskyNetwork().normalise(json.dumps(item))

    assert inbound.network == "bluesky"
    assert inbound.external_id == item["uri"]
    assert inbound.author_handle == "@alice-w.bsky.social"
    assert inbound.author_name == "Alice Wren"
    assert inbound.text == "Thanks — it was still there at 9pm. Photo attached."
    assert inbound.created_at == dt.datetime(2026, 3, 14, 10, 4, 58, 312000, tzinfo=dt.UTC)
    assert inbound.reply_to == item["record"]["reply"]["parent"]["uri"]
    assert inbound.thread_id == item["record"]["reply"]["root"]["uri"]
    assert inbound.reply_to != inbound.thread_id
    assert inbound.language == "en"
    assert inbound.attachments == [
        {
            "type": "image",
            "alt": "A silver hatchback parked across the pavement at night",
            "cid": item["record"]["embed"]["images"][0]["image"]["ref"]["$link"],
            "mime_type": "image/jpeg",
        }
    ]


def test_a_mention_and_a_quote_are_normalised():
    network = BlueskyNetwork()
    mention = network.normalise(json.dumps(PAGES[None]["notifications"][2]))
    assert mention.author_handle == "@carol.example.org"
    assert mention.text.startswith("@westmerepolice.bsky.social there's a broken-down van")
    assert mention.reply_to == "" and mention.thread_id == "" and mention.attachments == []
    quote = network.normalise(json.dumps(PAGES[None]["notifications"][4]))
    assert quote.language == "cy"
    assert quote.author_name == "Erin"


@pytest.mark.parametrize(
    "body, reason",
    [
        ("{not json", "not JSON"),
        ("[]", "JSON object"),
        (json.dumps(PAGES[None]["notifications"][1]), "'like' is not taken"),
        (json.dumps(PAGES[None]["notifications"][3]), "'follow' is not taken"),
        (json.dumps(PAGES["2026-03-14T10:01:00.000Z"]["notifications"][1]), "'repost'"),
        (json.dumps({**PAGES[None]["notifications"][2], "author": {}}), "handle"),
        (json.dumps({**PAGES[None]["notifications"][2], "uri": 7}), "uri"),
        (json.dumps({**PAGES[None]["notifications"][2], "record": None}), "record"),
        (
            json.dumps(
                {
                    **PAGES[None]["notifications"][2],
                    "record": {"$type": "app.bsky.feed.post", "text": "hi", "createdAt": "soon"},
                }
            ),
            "unreadable time",
        ),
    ],
)
def test_unreadable_deliveries_are_payload_errors(body, reason):
    with pytest.raises(PayloadError, match=reason):
        BlueskyNetwork().normalise(body)


# -- publishing ----------------------------------------------------------------------------


@pytest.fixture
def bsky_out(bsky: FakeNetwork) -> FakeNetwork:
    bsky.route("POST", CREATE_PATH, Response(200, fixture("create_record")))
    bsky.route("GET", GET_POSTS_PATH, Response(200, fixture("get_posts")))
    bsky.route(
        "GET",
        RESOLVE_PATH,
        lambda r: (
            Response(200, fixture("resolve_handle"))
            if r.param("handle") == "carol.example.org"
            else Response(400, {"error": "InvalidRequest", "message": "Unable to resolve handle"})
        ),
    )
    return bsky


def test_publish_posts_with_link_and_hashtag_facets_at_utf8_byte_offsets(bsky_out, account):
    acc = bluesky_account(account, bsky_out)
    text = "Café on Mill Lane reopens: https://westmere.police.example/news/1. #Westmere"
    uri = BlueskyNetwork().publish(acc, text)

    assert uri == fixture("create_record")["uri"]
    [call] = bsky_out.calls("POST", CREATE_PATH)
    assert call.headers["authorization"] == f"Bearer {SESSION['accessJwt']}"
    body = call.json()
    assert body["repo"] == SESSION["did"]
    assert body["collection"] == "app.bsky.feed.post"
    record = body["record"]
    assert record["$type"] == "app.bsky.feed.post"
    assert record["text"] == text
    assert record["langs"] == ["en"]
    assert record["createdAt"].endswith("Z")
    dt.datetime.fromisoformat(record["createdAt"].replace("Z", "+00:00"))
    assert "reply" not in record
    assert "embed" not in record

    encoded = text.encode("utf-8")
    link, tag = record["facets"]
    # 'é' is two bytes: the link starts one byte later than its character index.
    assert link["index"] == {"byteStart": 28, "byteEnd": 66}
    assert text.index("https://") == 27
    assert encoded[28:66].decode() == "https://westmere.police.example/news/1"
    assert link["features"] == [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://westmere.police.example/news/1"}
    ]
    assert encoded[tag["index"]["byteStart"] : tag["index"]["byteEnd"]].decode() == "#Westmere"
    assert tag["features"] == [{"$type": "app.bsky.richtext.facet#tag", "tag": "Westmere"}]


def test_mentions_get_a_facet_only_when_the_handle_resolves(bsky_out, account):
    acc = bluesky_account(account, bsky_out)
    text = "Thanks @carol.example.org and @nobody.example.org 👍"
    BlueskyNetwork().publish(acc, text)

    record = bsky_out.calls("POST", CREATE_PATH)[0].json()["record"]
    [mention] = record["facets"]
    encoded = text.encode("utf-8")
    start, end = mention["index"]["byteStart"], mention["index"]["byteEnd"]
    assert encoded[start:end].decode() == "@carol.example.org"
    assert mention["features"] == [
        {"$type": "app.bsky.richtext.facet#mention", "did": fixture("resolve_handle")["did"]}
    ]


def test_a_reply_carries_root_and_parent_refs(bsky_out, account):
    acc = bluesky_account(account, bsky_out)
    parent = fixture("get_posts")["posts"][0]
    BlueskyNetwork().publish(
        acc, "Thanks Sam, reported to the council.", PostOptions(reply_to=parent["uri"])
    )

    [lookup] = bsky_out.calls("GET", GET_POSTS_PATH)
    assert lookup.param("uris") == parent["uri"]
    record = bsky_out.calls("POST", CREATE_PATH)[0].json()["record"]
    assert record["reply"] == {
        "root": parent["record"]["reply"]["root"],  # the thread's root, not the parent
        "parent": {"uri": parent["uri"], "cid": parent["cid"]},
    }
    assert "facets" not in record


def test_a_reply_to_a_top_level_post_uses_it_as_root(bsky_out, account):
    acc = bluesky_account(account, bsky_out)
    top = dict(fixture("get_posts")["posts"][0])
    top["record"] = {k: v for k, v in top["record"].items() if k != "reply"}
    bsky_out.route("GET", GET_POSTS_PATH, Response(200, {"posts": [top]}))
    BlueskyNetwork().publish(acc, "Noted, thank you.", PostOptions(reply_to=top["uri"]))

    ref = {"uri": top["uri"], "cid": top["cid"]}
    record = bsky_out.calls("POST", CREATE_PATH)[0].json()["record"]
    assert record["reply"] == {"root": ref, "parent": ref}


def test_a_reply_to_a_vanished_post_is_refused(bsky_out, account):
    acc = bluesky_account(account, bsky_out)
    bsky_out.route("GET", GET_POSTS_PATH, Response(200, {"posts": []}))
    with pytest.raises(NetworkRefused, match="no longer exists"):
        BlueskyNetwork().publish(
            acc, "Hello", PostOptions(reply_to="at://did:plc:abc/app.bsky.feed.post/x")
        )
    assert bsky_out.calls("POST", CREATE_PATH) == []


def test_over_300_graphemes_is_refused_before_sending(bsky_out, account):
    acc = bluesky_account(account, bsky_out)
    network = BlueskyNetwork()
    with pytest.raises(ValueError, match="at most 300"):
        network.publish(acc, "a" * 301)
    # 300 accented letters written as letter + combining accent: 600 code points, fine.
    network.publish(acc, "e\u0301" * 300)
    # Family emoji (ZWJ sequences, 5 code points each) count once each.
    network.publish(acc, "👨‍👩‍👧" * 150)
    with pytest.raises(ValueError, match="301"):
        network.publish(acc, "🇬🇧" * 301)
    # The lexicon's other limit: 3000 bytes of UTF-8.
    with pytest.raises(ValueError, match="3000 bytes"):
        network.publish(acc, "👨‍👩‍👧" * 200)
    assert len(bsky_out.calls("POST", CREATE_PATH)) == 2


def test_publish_with_an_idempotency_key_posts_once(bsky_out, account):
    acc = bluesky_account(account, bsky_out)
    network = BlueskyNetwork()
    first = network.publish(acc, "Road reopened.", PostOptions(idempotency_key="reply-42"))
    second = network.publish(acc, "Road reopened.", PostOptions(idempotency_key="reply-42"))
    assert first == second
    assert len(bsky_out.calls("POST", CREATE_PATH)) == 1


def test_publish_errors_follow_the_contract(bsky_out, account):
    acc = bluesky_account(account, bsky_out)
    network = BlueskyNetwork()
    network.publish(acc, "warm-up")
    bsky_out.fail_next("500")
    with pytest.raises(TransientError):
        network.publish(acc, "Road reopened.")
    bsky_out.route(
        "POST",
        CREATE_PATH,
        Response(400, {"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record"}),
    )
    with pytest.raises(NetworkRefused, match="Invalid app.bsky.feed.post record"):
        network.publish(acc, "Road reopened.")


# -- images ------------------------------------------------------------------------------


def png(width: int, height: int, filler: int = 0) -> bytes:
    """The start of a PNG: signature and IHDR chunk (enough for the header to be read)."""
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + ihdr + bytes([filler]) * 20


def jpeg(width: int, height: int) -> bytes:
    """SOI, an APP0 segment, then a baseline SOF0 frame header with the size."""
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0\x00\x11\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return b"\xff\xd8" + app0 + sof0 + b"\x03\x01\x22\x00" + b"\x00" * 30


def upload_route(request: Request) -> Response:
    """uploadBlob as a PDS answers it: the blob ref for the bytes it was sent."""
    if request.headers.get("authorization") != f"Bearer {SESSION['accessJwt']}":
        return Response(401, {"error": "AuthenticationRequired", "message": "Invalid token"})
    answer = fixture("upload_blob")
    blob = dict(answer["blob"])
    blob["ref"] = {"$link": f"{blob['ref']['$link'][:-6]}{len(request.body):06d}"}
    blob["mimeType"] = request.headers.get("content-type")
    blob["size"] = len(request.body)
    return Response(200, {"blob": blob})


@pytest.fixture
def bsky_media(bsky_out: FakeNetwork) -> FakeNetwork:
    bsky_out.route("POST", UPLOAD_PATH, upload_route)
    return bsky_out


def test_images_are_uploaded_as_raw_bytes_and_embedded_with_their_alt_text(bsky_media, account):
    acc = bluesky_account(account, bsky_media)
    photo = png(1200, 800)
    scan = jpeg(640, 480)
    uri = BlueskyNetwork().publish(
        acc,
        "Have you seen this bike? #Westmere",
        PostOptions(
            media=tuple(
                MediaItem(d, "image", t, a)
                for d, t, a in [
                    (photo, "image/png", "A red bicycle chained to railings"),
                    (scan, "image/jpeg", "  CCTV still of a man in a grey hoodie  "),
                ]
            )
        ),
    )
    assert uri == fixture("create_record")["uri"]

    first, second = bsky_media.calls("POST", UPLOAD_PATH)
    assert first.body == photo and second.body == scan
    assert first.headers["content-type"] == "image/png"
    assert second.headers["content-type"] == "image/jpeg"
    assert first.headers["authorization"] == f"Bearer {SESSION['accessJwt']}"
    # The blobs are uploaded before the post that references them.
    paths = [r.path for r in bsky_media.requests]
    assert paths.index(CREATE_PATH) > max(i for i, p in enumerate(paths) if p == UPLOAD_PATH)

    record = bsky_media.calls("POST", CREATE_PATH)[0].json()["record"]
    blobs = [upload_route(first).body["blob"], upload_route(second).body["blob"]]
    assert record["embed"] == {
        "$type": "app.bsky.embed.images",
        "images": [
            {
                "alt": "A red bicycle chained to railings",
                "image": blobs[0],
                "aspectRatio": {"width": 1200, "height": 800},
            },
            {
                "alt": "CCTV still of a man in a grey hoodie",
                "image": blobs[1],
                "aspectRatio": {"width": 640, "height": 480},
            },
        ],
    }
    assert blobs[0]["$type"] == "blob" and blobs[0]["mimeType"] == "image/png"
    assert blobs[0]["size"] == len(photo)
    assert record["text"] == "Have you seen this bike? #Westmere"
    assert record["facets"][0]["features"][0]["tag"] == "Westmere"


def test_the_blob_the_pds_answers_with_is_embedded_as_it_is(bsky_media, account):
    acc = bluesky_account(account, bsky_media)
    bsky_media.route("POST", UPLOAD_PATH, Response(200, fixture("upload_blob")))
    BlueskyNetwork().publish(
        acc,
        "",
        PostOptions(
            media=tuple(
                MediaItem(d, "image", t, a)
                for d, t, a in [(b"not a real image", "image/webp", "A map")]
            )
        ),
    )

    record = bsky_media.calls("POST", CREATE_PATH)[0].json()["record"]
    # An image whose size cannot be read from its header gets no aspectRatio; the text of
    # a post with images may be empty.
    assert record["text"] == ""
    assert record["embed"]["images"] == [{"alt": "A map", "image": fixture("upload_blob")["blob"]}]


def test_four_images_of_the_maximum_size_are_accepted(bsky_media, account):
    acc = bluesky_account(account, bsky_media)
    big = png(10, 10, filler=7)
    big += b"\x00" * (MAX_IMAGE_BYTES - len(big))
    BlueskyNetwork().publish(
        acc,
        "Four",
        PostOptions(
            media=tuple(
                MediaItem(d, "image", t, a)
                for d, t, a in [(big, "image/png", f"Photo {n}") for n in range(4)]
            )
        ),
    )
    assert [len(r.body) for r in bsky_media.calls("POST", UPLOAD_PATH)] == [MAX_IMAGE_BYTES] * 4
    assert len(bsky_media.calls("POST", CREATE_PATH)[0].json()["record"]["embed"]["images"]) == 4


@pytest.mark.parametrize(
    "images, reason",
    [
        ([(png(4, 3), "image/png", f"Photo {n}") for n in range(5)], "at most 4 images"),
        ([(b"\x00" * (MAX_IMAGE_BYTES + 1), "image/jpeg", "Big")], "at most 1,000,000 bytes"),
        ([(png(4, 3), "image/png", "")], "image 1 has no alt text"),
        ([(png(4, 3), "image/png", "ok"), (png(4, 3), "image/png", "   ")], "image 2 has no alt"),
        ([(png(4, 3), "application/pdf", "A leaflet")], "not an image MIME type"),
        ([(b"", "image/png", "Nothing")], "no data"),
    ],
)
def test_bad_images_are_refused_before_any_request(bsky_media, account, images, reason):
    acc = bluesky_account(account, bsky_media)
    with pytest.raises(ValueError, match=reason):
        BlueskyNetwork().publish(
            acc,
            "With pictures",
            PostOptions(media=tuple(MediaItem(d, "image", t, a) for d, t, a in images)),
        )
    assert bsky_media.requests == []


def test_a_failed_upload_posts_nothing(bsky_media, account):
    acc = bluesky_account(account, bsky_media)
    bsky_media.route(
        "POST",
        UPLOAD_PATH,
        Response(400, {"error": "InvalidRequest", "message": "Unsupported image type"}),
    )
    with pytest.raises(NetworkRefused, match="Unsupported image type"):
        BlueskyNetwork().publish(
            acc,
            "Photo",
            PostOptions(
                media=tuple(
                    MediaItem(d, "image", t, a) for d, t, a in [(png(2, 2), "image/png", "A dot")]
                )
            ),
        )
    assert bsky_media.calls("POST", CREATE_PATH) == []


def test_image_sizes_are_read_from_png_gif_and_jpeg_headers():
    assert image_size(png(1200, 800)) == (1200, 800)
    assert image_size(jpeg(640, 480)) == (640, 480)
    assert image_size(b"GIF89a" + (320).to_bytes(2, "little") + (200).to_bytes(2, "little")) == (
        320,
        200,
    )
    assert image_size(b"RIFF....WEBP") is None
    assert image_size(b"\xff\xd8\xff") is None


# -- threads -------------------------------------------------------------------------------


def thread_route(fail_on: int | None = None, error: Response | None = None):
    """createRecord answering each post with its own uri and cid; `fail_on` (1-based) fails."""
    count = {"n": 0}

    def handler(request: Request) -> Response:
        count["n"] += 1
        if count["n"] == fail_on:
            return error or Response(500, {"error": "InternalServerError", "message": "oops"})
        return Response(
            200,
            {
                "uri": f"at://{SESSION['did']}/app.bsky.feed.post/thread{count['n']}",
                "cid": f"bafyreithread{count['n']}",
                "commit": {"cid": "bafyreicommit", "rev": "3l5hoaezbz7g4"},
                "validationStatus": "valid",
            },
        )

    return handler


def ref(n: int) -> dict[str, str]:
    return {
        "uri": f"at://{SESSION['did']}/app.bsky.feed.post/thread{n}",
        "cid": f"bafyreithread{n}",
    }


def test_a_thread_replies_to_the_previous_part_with_the_first_as_root(bsky_out, account):
    acc = bluesky_account(account, bsky_out)
    bsky_out.route("POST", CREATE_PATH, thread_route())
    parts = ["Road closure on the A38 (1/3)", "Diversions via Mill Lane (2/3)", "More soon (3/3)"]
    posted = BlueskyNetwork().publish_thread(acc, parts)

    assert posted == [ref(1)["uri"], ref(2)["uri"], ref(3)["uri"]]
    records = [c.json()["record"] for c in bsky_out.calls("POST", CREATE_PATH)]
    assert [r["text"] for r in records] == parts
    assert "reply" not in records[0]
    assert records[1]["reply"] == {"root": ref(1), "parent": ref(1)}
    assert records[2]["reply"] == {"root": ref(1), "parent": ref(2)}
    # createRecord's answers give the refs: no lookup of our own posts.
    assert bsky_out.calls("GET", GET_POSTS_PATH) == []


@pytest.mark.parametrize(
    "parts, reason",
    [
        (["Fine", "a" * 301, "Fine"], "part 2 of the thread: .*at most 300"),
        (["Fine", "Fine", "👨‍👩‍👧" * 200], "part 3 of the thread: .*3000 bytes"),
        (["Fine", "   "], "part 2 of the thread: .*needs some text"),
        ([], "at least one post"),
    ],
)
def test_a_bad_part_is_refused_before_anything_is_sent(bsky_out, account, parts, reason):
    acc = bluesky_account(account, bsky_out)
    bsky_out.route("POST", CREATE_PATH, thread_route())
    with pytest.raises(ValueError, match=reason):
        BlueskyNetwork().publish_thread(acc, parts)
    assert bsky_out.requests == []


def test_a_failure_on_part_2_reports_part_1s_uri(bsky_out, account):
    acc = bluesky_account(account, bsky_out)
    bsky_out.route("POST", CREATE_PATH, thread_route(fail_on=2))
    with pytest.raises(ThreadInterrupted) as caught:
        BlueskyNetwork().publish_thread(acc, ["One", "Two", "Three"])
    assert caught.value.posted == [ref(1)["uri"]]
    assert "part 2 of 3" in str(caught.value)
    assert isinstance(caught.value.__cause__, TransientError)
    assert len(bsky_out.calls("POST", CREATE_PATH)) == 2  # part 3 never tried


def test_a_refused_later_part_is_interrupted_too(bsky_out, account):
    acc = bluesky_account(account, bsky_out)
    refused = Response(400, {"error": "InvalidRequest", "message": "Invalid reply ref"})
    bsky_out.route("POST", CREATE_PATH, thread_route(fail_on=3, error=refused))
    with pytest.raises(ThreadInterrupted, match="Invalid reply ref") as caught:
        BlueskyNetwork().publish_thread(acc, ["One", "Two", "Three"])
    assert caught.value.posted == [ref(1)["uri"], ref(2)["uri"]]
    assert isinstance(caught.value.__cause__, NetworkRefused)


def test_a_failure_on_part_1_is_raised_as_it_is(bsky_out, account):
    acc = bluesky_account(account, bsky_out)
    bsky_out.route("POST", CREATE_PATH, thread_route(fail_on=1))
    with pytest.raises(TransientError) as caught:
        BlueskyNetwork().publish_thread(acc, ["One", "Two"])
    assert not isinstance(caught.value, ThreadInterrupted)
    assert len(bsky_out.calls("POST", CREATE_PATH)) == 1


# -- the text helpers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("hello", 5),
        ("Café", 4),
        ("Cafe\u0301", 4),
        ("👍🏽", 1),
        ("🏴\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f", 1),
        ("🇬🇧🇮🇪", 2),
        ("👩‍🚒!", 2),
        ("❤️", 1),
        ("a\r\nb", 3),
    ],
)
def test_grapheme_counting(text, expected):
    assert count_graphemes(text) == expected


def test_facets_skip_links_trailing_punctuation_and_numeric_tags():
    text = "See (https://example.com/a_(b)) and https://example.com. #123 #ok!"
    facets = detect_facets(text)
    encoded = text.encode()
    found = [encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in facets]
    assert found == ["https://example.com/a_(b)", "https://example.com", "#ok"]


def test_fetched_notifications_become_messages_through_the_one_ingestion_path(bsky, account):
    from beatdesk.inbox.models import Message
    from beatdesk.networks.actions import do_fetch

    acc = bluesky_account(account, bsky)
    acc.cursor = "2026-03-14T09:00:00.000Z"
    acc.save()
    outcome = do_fetch(acc)
    assert outcome.status == "fetched" and outcome.stored == outcome.fetched > 0
    assert Message.objects.filter(network="bluesky").count() == outcome.stored


def test_the_poller_waits_until_the_servers_reset_time(bsky, account):
    import datetime as dt

    from beatdesk.networks.actions import do_fetch
    from beatdesk.networks.models import ChannelHealth

    acc = bluesky_account(account, bsky)
    reset = int(time.time()) + 300
    bsky.fail_next("429", headers={"RateLimit-Reset": str(reset)})
    outcome = do_fetch(acc)
    if outcome.status == "fetched":  # the session call took the 429 and was retried
        bsky.fail_next("429", headers={"RateLimit-Reset": str(reset)})
        outcome = do_fetch(acc, force=True)
    assert outcome.status == "failed"
    waits_until = ChannelHealth.objects.get(account=acc).next_attempt_at
    assert waits_until >= dt.datetime.fromtimestamp(reset - 2, tz=dt.UTC)
    assert do_fetch(acc).status == "waiting"


def own_record_route(request: Request) -> Response:
    """com.atproto.repo.getRecord on the account's PDS: its own post, answered at once."""
    if request.param("repo") != SESSION["did"] or request.param("collection") != (
        "app.bsky.feed.post"
    ):
        return Response(400, {"error": "InvalidRequest", "message": "Could not locate record"})
    if request.param("rkey") != "thread1":
        return Response(400, {"error": "RecordNotFound", "message": "Could not locate record"})
    value = {
        "$type": "app.bsky.feed.post",
        "text": "Road closure on the A38 (2/3)",
        "createdAt": "2026-03-14T11:00:00.000Z",
        "reply": {"root": ref(0), "parent": ref(0)},
    }
    return Response(200, {"uri": ref(1)["uri"], "cid": ref(1)["cid"], "value": value})


def test_a_reply_to_the_accounts_own_post_not_yet_indexed_is_read_from_its_pds(bsky_out, account):
    """A thread's next part answers the part before it, posted a moment ago: the AppView may
    not have indexed it yet (getPosts answers no posts), so it is read from the PDS."""
    acc = bluesky_account(account, bsky_out)
    bsky_out.route("GET", GET_POSTS_PATH, Response(200, {"posts": []}))
    bsky_out.route("GET", GET_RECORD_PATH, own_record_route)
    BlueskyNetwork().publish(acc, "More soon (3/3)", PostOptions(reply_to=ref(1)["uri"]))

    record = bsky_out.calls("POST", CREATE_PATH)[0].json()["record"]
    assert record["reply"] == {"root": ref(0), "parent": ref(1)}
    assert bsky_out.calls("GET", GET_POSTS_PATH) == []


def test_a_reply_to_the_accounts_own_deleted_post_is_refused(bsky_out, account):
    acc = bluesky_account(account, bsky_out)
    bsky_out.route("GET", GET_RECORD_PATH, own_record_route)
    with pytest.raises(NetworkRefused, match="no longer exists"):
        BlueskyNetwork().publish(acc, "Hello", PostOptions(reply_to=ref(7)["uri"]))
    assert bsky_out.calls("POST", CREATE_PATH) == []
