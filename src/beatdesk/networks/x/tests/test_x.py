"""The X connector against a real HTTP fake of the X API v2, and its webhooks."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from beatdesk.networks.base import (
    NetworkRefused,
    NotSupported,
    PayloadError,
    PostOptions,
    RateLimited,
    TransientError,
)
from beatdesk.networks.x.inbound import TWEET_FIELDS, XNetwork
from beatdesk.networks.x.publish import ThreadInterrupted, urls, weighted_length
from beatdesk.networks.x.webhook import crc_response, split_events, verify_signature
from beatdesk.testing.fakenet import (
    FakeNetwork,
    Request,
    Response,
    fake_network,  # noqa: F401
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MENTIONS = "/2/users/123456789/mentions"
SECRET = "consumer-secret-example"
x = XNetwork()


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def raw(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.fixture
def net(fake_network: FakeNetwork) -> FakeNetwork:  # noqa: F811
    """The fake X API for one test."""
    return fake_network


@pytest.fixture
def x_account(account, net):
    acct = account("@WestmerePolice")
    acct.set_credentials(
        {
            "api_base": net.base_url,
            "bearer_token": "app-bearer-abc",
            "user_id": "123456789",
            "user_access_token": "user-token-xyz",
            "consumer_secret": SECRET,
        }
    )
    acct.save()
    return acct


def paged(reset: int) -> Any:
    def handler(request: Request) -> Response:
        token = request.param("pagination_token")
        name = "mentions_page2.json" if token else "mentions_page1.json"
        headers = {
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "448" if token else "449",
            "x-rate-limit-reset": str(reset),
        }
        return Response(200, load(name), headers)

    return handler


# --- fetching mentions --------------------------------------------------------------------


def test_mentions_are_fetched_since_the_cursor_with_the_bearer_following_pages(x_account, net):
    reset = int(time.time()) + 900
    net.route("GET", MENTIONS, paged(reset))
    result = x.fetch(x_account, "1789000000000000000")

    calls = net.calls("GET", MENTIONS)
    assert len(calls) == 2
    first, second = calls
    for call in calls:
        assert call.headers["authorization"] == "Bearer app-bearer-abc"
        assert call.param("since_id") == "1789000000000000000"
        assert call.param("max_results") == "100"
        assert call.param("tweet.fields") == TWEET_FIELDS
        assert call.param("expansions") == "author_id,attachments.media_keys"
        assert call.param("user.fields") == "username,name"
        assert call.param("media.fields") == "type,url,alt_text"
    assert first.param("pagination_token") is None
    assert second.param("pagination_token") == "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"
    assert set(TWEET_FIELDS.split(",")) >= {"created_at", "conversation_id", "referenced_tweets"}

    # Oldest first, across both pages; the cursor is the newest post's id.
    ids = [json.loads(body)["data"]["id"] for body in result.bodies]
    assert ids == [f"179000000000000000{i}" for i in range(1, 6)]
    assert result.cursor == "1790000000000000005"
    assert result.budget.limit == 450
    assert result.budget.remaining == 448
    assert result.budget.resets_at == reset


def test_each_fetched_body_is_self_contained(x_account, net):
    net.route("GET", MENTIONS, paged(int(time.time()) + 900))
    result = x.fetch(x_account, "")
    assert net.requests[0].param("since_id") is None  # first fetch: no cursor yet

    bodies = {json.loads(b)["data"]["id"]: json.loads(b) for b in result.bodies}
    for body in bodies.values():
        assert set(body) == {"data", "includes"}
        (author,) = body["includes"]["users"]
        assert author["id"] == body["data"]["author_id"]
    photo = bodies["1790000000000000002"]
    assert [m["media_key"] for m in photo["includes"]["media"]] == ["3_1790000000000000020"]
    assert "media" not in bodies["1790000000000000001"]["includes"]

    # Each body is read alone, with its own author and media.
    items = {item.external_id: item for item in map(x.normalise, result.bodies)}
    assert items["1790000000000000002"].author_handle == "@chrisoneill"
    assert items["1790000000000000002"].attachments == [
        {
            "type": "photo",
            "url": "https://pbs.twimg.com/media/GNxAbCdWcAA1x2y.jpg",
            "alt_text": "A dark pedestrian underpass with one broken streetlight",
        }
    ]
    assert items["1790000000000000005"].author_handle == "@rhian_e"
    assert items["1790000000000000001"].author_name == "Sam Patel"


def test_no_new_mentions_keeps_the_cursor(x_account, net):
    net.route("GET", MENTIONS, load("mentions_empty.json"))
    result = x.fetch(x_account, "1790000000000000005")
    assert result.bodies == [] and result.cursor == "1790000000000000005"
    assert len(net.requests) == 1


def test_pagination_stops_after_ten_pages(x_account, net):
    count = iter(range(1, 100))

    def endless(request: Request) -> Response:
        n = next(count)
        page = load("mentions_page2.json")
        page["data"] = page["data"][1:]
        page["data"][0]["id"] = f"17900000000000{n:05d}"
        page["meta"]["next_token"] = f"token-{n}"
        return Response(200, page)

    net.route("GET", MENTIONS, endless)
    result = x.fetch(x_account, "")
    assert len(net.requests) == 10 and len(result.bodies) == 10
    assert result.cursor == "1790000000000000010"


# --- normalising -----------------------------------------------------------------------------


def test_normalise_reads_replies_conversations_languages_and_text():
    page = load("mentions_page1.json")
    users = page["includes"]["users"]

    def body(i: int) -> str:
        tweet = page["data"][i]
        author = [u for u in users if u["id"] == tweet["author_id"]]
        return json.dumps({"data": tweet, "includes": {"users": author}})

    reply = x.normalise(body(2))
    assert reply.network == "x"
    assert reply.external_id == "1790000000000000003"
    assert reply.author_handle == "@sam_dudleyrd" and reply.author_name == "Sam Patel"
    assert reply.reply_to == "1789995000000000000"
    assert reply.thread_id == "1789990000000000000"
    assert reply.language == "en"
    assert reply.created_at == dt.datetime(2024, 5, 16, 9, 20, 45, tzinfo=dt.UTC)
    assert reply.text.startswith("@WestmerePolice thanks")

    quote = x.normalise(body(0))
    assert quote.reply_to == ""  # a quote is not a reply
    assert quote.language == "cy"
    emoji = x.normalise(body(1))
    assert emoji.language == ""  # "und"

    page2 = load("mentions_page2.json")
    amp = x.normalise(
        json.dumps({"data": page2["data"][0], "includes": {"users": page2["includes"]["users"]}})
    )
    assert "underpass & it's" in amp.text  # X's &amp; is the desk's &


def test_normalise_keeps_a_post_whose_author_x_left_out():
    tweet = load("mentions_page1.json")["data"][2]
    item = x.normalise(json.dumps({"data": tweet, "includes": {"users": []}}))
    assert item.author_handle == "id:2001"


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[1, 2]",
        "{}",
        json.dumps({"data": {"id": "1", "author_id": "2"}}),
        json.dumps({"data": {"text": "no id"}}),
        json.dumps({"data": {"id": "1", "text": "hi", "author_id": "2", "created_at": "soon"}}),
        json.dumps({"tweet_create_events": []}),
        json.dumps({"tweet_create_events": [{"id_str": "1", "text": "no user"}]}),
        json.dumps({"direct_message_events": [{"type": "message_delete", "id": "1"}]}),
    ],
)
def test_unreadable_bodies_are_payload_errors(body):
    with pytest.raises(PayloadError):
        x.normalise(body)


def test_webhook_tweet_event_is_normalised():
    item = x.normalise(raw("webhook_tweet_create.json"))
    assert item.network == "x"
    assert item.external_id == "1790000000000000201"
    assert item.author_handle == "@priya_cycles" and item.author_name == "Priya Shah"
    assert item.text.endswith("lights & drove off")
    assert item.reply_to == "1789995000000000000"
    assert item.created_at == dt.datetime(2024, 5, 16, 9, 12, 44, tzinfo=dt.UTC)
    assert item.language == "en"


def test_webhook_extended_tweet_gives_the_full_text():
    delivery = load("webhook_tweet_create.json")
    event = delivery["tweet_create_events"][0]
    event.update(truncated=True, text="@WestmerePolice a van just…")
    event["extended_tweet"] = {"full_text": "@WestmerePolice a van just clipped a cyclist " * 4}
    assert x.normalise(json.dumps(delivery)).text == event["extended_tweet"]["full_text"]


def test_webhook_direct_message_is_normalised():
    item = x.normalise(raw("webhook_dm.json"))
    assert item.network == "x"
    assert item.external_id == "dm:1790000000000000301"
    assert item.author_handle == "@jo_westmere" and item.author_name == "Jo Bloggs"
    assert item.text.startswith("Hi, I'd rather not say this publicly")
    assert "harassed & scared" in item.text
    assert item.thread_id == "dm:2005-123456789"
    assert item.created_at == dt.datetime(2024, 5, 16, 9, 16, 40, tzinfo=dt.UTC)
    assert item.reply_to == ""


# --- webhooks ---------------------------------------------------------------------------------


def test_crc_response_matches_a_known_vector():
    # Computed outside Python: printf %s crc-token-example |
    #   openssl dgst -sha256 -hmac consumer-secret-example -binary | base64
    assert crc_response("crc-token-example", SECRET) == {
        "response_token": "sha256=kpAikFOLDb5R8Sn4ftxHR9bqXpQvOvVnCZJc9uGJuAQ="
    }
    token = "bWFnaWMtY3JjLXRva2Vu-1715851000"
    expected = base64.b64encode(
        hmac.new(b"another secret", token.encode(), hashlib.sha256).digest()
    ).decode()
    assert crc_response(token, "another secret")["response_token"] == f"sha256={expected}"


def test_signatures_are_verified_over_the_raw_body():
    body = (FIXTURES / "webhook_tweet_create.json").read_bytes()
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    header = "sha256=" + base64.b64encode(digest).decode()
    assert verify_signature(body, header, SECRET) is True
    assert verify_signature(body + b" ", header, SECRET) is False
    assert verify_signature(body, header, "wrong secret") is False
    assert verify_signature(body, "", SECRET) is False
    assert verify_signature(body, None, SECRET) is False
    assert verify_signature(body, "sha256=AAAA", SECRET) is False
    assert verify_signature(body, "sha256=é", SECRET) is False


def test_a_delivery_is_split_into_one_body_per_message_event():
    tweets = load("webhook_tweet_create.json")
    second = dict(tweets["tweet_create_events"][0], id_str="1790000000000000202")
    dm = load("webhook_dm.json")
    delivery = {
        "for_user_id": "123456789",
        "tweet_create_events": [tweets["tweet_create_events"][0], second],
        "direct_message_events": dm["direct_message_events"],
        "favorite_events": [{"id": "x"}],
        "users": dm["users"],
    }
    bodies = split_events(json.dumps(delivery))
    assert len(bodies) == 3
    for body in bodies:
        record = json.loads(body)
        assert record["for_user_id"] == "123456789"
        assert record["users"] == dm["users"]
        assert "favorite_events" not in record
    assert [x.normalise(b).external_id for b in bodies] == [
        "1790000000000000201",
        "1790000000000000202",
        "dm:1790000000000000301",
    ]
    assert split_events(json.dumps({"for_user_id": "1", "follow_events": [{}]})) == []
    with pytest.raises(PayloadError):
        split_events(b"{nope")


# --- failures ---------------------------------------------------------------------------------


def test_429_is_rate_limited_until_the_reset(x_account, net):
    reset = int(time.time()) + 120
    net.route("GET", MENTIONS, load("mentions_empty.json"))
    net.fail_next("429", headers={"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"})
    with pytest.raises(RateLimited) as caught:
        x.fetch(x_account, "1")
    assert caught.value.retry_after is not None
    assert reset - time.time() - 2 <= caught.value.retry_after <= 120


@pytest.mark.parametrize("kind", ["500", "timeout", "malformed"])
def test_server_errors_timeouts_and_malformed_bodies_are_transient(kind, x_account, net):
    net.route("GET", MENTIONS, load("mentions_empty.json"))
    net.fail_next(kind)
    started = time.monotonic()
    with pytest.raises(TransientError) as caught:
        x.fetch(x_account, "1")
    assert not isinstance(caught.value, RateLimited)
    assert time.monotonic() - started < 2.9  # gave up before the fake's 3 s answer


def test_a_failure_on_a_later_page_loses_nothing(x_account, net):
    handler = paged(int(time.time()) + 900)

    def flaky(request: Request) -> Response:
        if request.param("pagination_token"):
            return Response(503, {"title": "Service Unavailable"})
        return handler(request)

    net.route("GET", MENTIONS, flaky)
    with pytest.raises(TransientError):
        x.fetch(x_account, "1")  # the caller keeps its old cursor and asks again


def test_connection_refused_is_transient(x_account):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    credentials = x_account.get_credentials()
    x_account.set_credentials({**credentials, "api_base": f"http://127.0.0.1:{port}"})
    with pytest.raises(TransientError):
        x.fetch(x_account, "1")


def test_401_and_403_are_refusals_with_xs_reason(x_account, net):
    net.route("GET", MENTIONS, Response(401, load("error_401.json")))
    with pytest.raises(NetworkRefused, match="401.*Unauthorized"):
        x.fetch(x_account, "1")
    net.route("GET", MENTIONS, Response(403, load("error_403.json")))
    with pytest.raises(NetworkRefused, match="client-not-enrolled"):
        x.fetch(x_account, "1")


def test_tokens_never_appear_in_errors(x_account, net):
    net.route("GET", MENTIONS, Response(401, load("error_401.json")))
    with pytest.raises(NetworkRefused) as caught:
        x.fetch(x_account, "1")
    assert "app-bearer-abc" not in str(caught.value)


def test_missing_credentials_are_refused(account):
    with pytest.raises(NetworkRefused, match="bearer_token"):
        x.fetch(account("@WestmerePolice"), "")


# --- publishing -------------------------------------------------------------------------------


def test_publish_posts_a_reply_with_the_user_token(x_account, net):
    net.route("POST", "/2/tweets", Response(201, load("post_tweet.json")))
    text = "Officers are on their way to Dudley Road. Thanks for letting us know."
    post_id = x.publish(
        x_account, text, PostOptions(reply_to="1790000000000000003", idempotency_key="k1")
    )
    assert post_id == "1790000000000000100"
    (call,) = net.calls("POST", "/2/tweets")
    assert call.headers["authorization"] == "Bearer user-token-xyz"
    assert call.json() == {"text": text, "reply": {"in_reply_to_tweet_id": "1790000000000000003"}}

    x.publish(x_account, "A new post")
    assert net.calls("POST", "/2/tweets")[-1].json() == {"text": "A new post"}


def _counting_poster(net: FakeNetwork) -> None:
    ids = iter(range(501, 600))

    def handler(request: Request) -> Response:
        n = next(ids)
        return Response(201, {"data": {"id": f"1790000000000000{n}", "text": "ok"}})

    net.route("POST", "/2/tweets", handler)


def test_a_thread_of_three_replies_to_each_part(x_account, net):
    _counting_poster(net)
    ids = x.publish_thread(x_account, ["1/3 Road closed", "2/3 Diversions", "3/3 Updates here"])
    assert ids == ["1790000000000000501", "1790000000000000502", "1790000000000000503"]
    sent = [c.json() for c in net.calls("POST", "/2/tweets")]
    assert sent[0] == {"text": "1/3 Road closed"}
    assert sent[1]["reply"] == {"in_reply_to_tweet_id": "1790000000000000501"}
    assert sent[2]["reply"] == {"in_reply_to_tweet_id": "1790000000000000502"}


def test_a_thread_stopped_part_way_says_what_was_posted(x_account, net):
    _counting_poster(net)
    x.publish_thread(x_account, ["warm up"])
    net.requests.clear()
    posted: list[int] = []

    def second_fails(request: Request) -> Response:
        if posted:
            return Response(500, {"title": "Internal Server Error"})
        posted.append(1)
        return Response(201, {"data": {"id": "1790000000000000601", "text": "ok"}})

    net.route("POST", "/2/tweets", second_fails)
    with pytest.raises(ThreadInterrupted) as caught:
        x.publish_thread(x_account, ["one", "two", "three"])
    assert caught.value.posted == ["1790000000000000601"]
    assert isinstance(caught.value.__cause__, TransientError)


def test_over_length_posts_are_refused_before_anything_is_sent(x_account, net):
    _counting_poster(net)
    with pytest.raises(ValueError, match="281 of 280"):
        x.publish(x_account, "a" * 281)
    with pytest.raises(ValueError, match="part 2"):
        x.publish_thread(x_account, ["fine", "b" * 300, "fine"])
    with pytest.raises(ValueError, match="needs some text"):
        x.publish(x_account, "   ")
    assert net.requests == []
    x.publish(x_account, "a" * 280)
    assert len(net.requests) == 1


def test_replying_to_a_direct_message_is_not_a_post(x_account):
    with pytest.raises(NotSupported):
        x.publish(x_account, "Thanks", PostOptions(reply_to="dm:1790000000000000301"))


def test_weighted_length_counts_links_as_23_and_cjk_as_2():
    long_link = "https://www.westmere.police.uk/news/2024/05/16/dudley-road-closure-update"
    assert weighted_length(long_link) == 23
    assert weighted_length(f"Update: {long_link}.") == len("Update: ") + 23 + 1
    assert weighted_length("Report it at westmere.police.uk/report") == 13 + 23
    assert urls("see https://x.com/a), and www.gov.uk!") == ["https://x.com/a", "www.gov.uk"]
    assert urls("email contact@westmere-police.com") == []
    assert weighted_length("警察") == 4
    assert weighted_length("Café — naïve “quotes”") == len("Café — naïve “quotes”")
    assert weighted_length("🚓") == 2
    assert weighted_length("👩🏽‍🚒") == 2  # skin tone and joiner: one emoji
    assert weighted_length("🇬🇧") == 2  # a flag
    text = ("x" * 250) + " " + long_link  # 251 + 23 = 274: fits although 324 code points
    assert weighted_length(text) == 274


# --- through the desk's ingestion ---------------------------------------------------------------


@pytest.fixture
def x_registered(monkeypatch):
    """The connector registered for "x" for one test (registry.py is not this folder's)."""
    from beatdesk.networks import registry

    monkeypatch.setitem(registry.CONNECTORS, "x", "beatdesk.networks.x.inbound.XNetwork")
    registry.connector.cache_clear()
    yield
    registry.connector.cache_clear()


def test_fetched_and_webhook_copies_of_a_mention_are_stored_once(x_registered, x_account, net):
    from beatdesk.inbox.actions import do_receive
    from beatdesk.inbox.models import Message

    net.route("GET", MENTIONS, paged(int(time.time()) + 900))
    for body in x.fetch(x_account, "").bodies:
        do_receive(x_account, body)
    assert Message.objects.filter(network="x").count() == 5
    reply = Message.objects.get(network="x", external_id="1790000000000000003")
    assert reply.thread_id == "1789990000000000000"

    same = load("webhook_tweet_create.json")
    same["tweet_create_events"][0]["id_str"] = "1790000000000000003"
    do_receive(x_account, json.dumps(same))
    for body in split_events(raw("webhook_dm.json")):
        do_receive(x_account, body)
    assert Message.objects.filter(network="x").count() == 6
    assert Message.objects.get(external_id="dm:1790000000000000301").author_handle == (
        "@jo_westmere"
    )
