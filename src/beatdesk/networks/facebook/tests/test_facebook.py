"""The Facebook Page and Instagram connectors against a real HTTP fake of the Graph API."""

from __future__ import annotations

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
from beatdesk.networks.facebook.inbound import (
    FEED_FIELDS,
    IG_FIELDS,
    FacebookNetwork,
    InstagramNetwork,
)
from beatdesk.networks.facebook.webhook import split_events, verify_signature, verify_subscription
from beatdesk.networks.models import NetworkAccount
from beatdesk.testing.fakenet import FakeNetwork, Response

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PAGE_ID = "104123456789012"
IG_ID = "17841400000000001"
FEED = f"/v21.0/{PAGE_ID}/feed"
MEDIA = f"/v21.0/{IG_ID}/media"
TOKEN = "EAAGpageTOKENsecret123"
APP_SECRET = "app-secret-example"
VERIFY = "verify-token-example"
PSID = "6543210987654321"
facebook = FacebookNetwork()
instagram = InstagramNetwork()


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def raw(name: str) -> str:
    return (FIXTURES / name).read_text()


def credentials(net: FakeNetwork, **extra: str) -> dict[str, str]:
    return {
        "graph_base": net.base_url + "/v21.0",
        "page_id": PAGE_ID,
        "page_access_token": TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY,
        **extra,
    }


@pytest.fixture
def fb_account(account, fake_network):
    acct = account("Westmere Police")
    acct.set_credentials(credentials(fake_network))
    acct.save()
    return acct


@pytest.fixture
def ig_account(force, fake_network):
    acct = NetworkAccount.objects.create(force=force, kind="instagram", handle="westmerepolice")
    acct.set_credentials(credentials(fake_network, ig_user_id=IG_ID))
    acct.save()
    return acct


def ids(bodies: list[str]) -> list[str]:
    return [json.loads(b)["id"] for b in bodies]


# --- fetching -------------------------------------------------------------------------------


def test_page_comments_newer_than_the_cursor_come_oldest_first(fb_account, fake_network):
    usage = json.dumps({"call_count": 28, "total_time": 12, "total_cputime": 9})
    fake_network.route("GET", FEED, Response(200, load("page_feed.json"), {"X-App-Usage": usage}))
    result = facebook.fetch(fb_account, "2024-05-16T09:00:00+00:00")

    (call,) = fake_network.calls("GET", FEED)
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.param("fields") == FEED_FIELDS
    assert (
        call.param("appsecret_proof")
        == hmac.new(APP_SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
    )
    assert call.param("access_token") is None  # the token never goes in the URL
    assert "comments" in FEED_FIELDS and "{id,message,created_time,from,parent" in FEED_FIELDS

    # The 08:30 comment is before the cursor; the Page's own reply is never inbound.
    assert ids(result.bodies) == [
        "801234567890456_990000000000005",
        "801234567890123_990000000000002",
        "801234567890123_990000000000004",
    ]
    assert result.cursor == "2024-05-16T09:31:02+00:00"
    assert result.budget.remaining == 72 and result.budget.limit == 100
    for body in result.bodies:
        assert json.loads(body)["for_id"] == PAGE_ID

    again = facebook.fetch(fb_account, result.cursor)
    assert again.bodies == [] and again.cursor == result.cursor

    first = facebook.fetch(fb_account, "")
    assert len(first.bodies) == 4 and first.cursor == result.cursor


def test_fetched_page_comments_normalise(fb_account, fake_network):
    fake_network.route("GET", FEED, load("page_feed.json"))
    items = {
        i.external_id: i for i in map(facebook.normalise, facebook.fetch(fb_account, "").bodies)
    }
    photo = items["801234567890456_990000000000005"]
    assert photo.network == "facebook"
    assert photo.author_handle == "Chris O'Neill" and photo.author_name == "Chris O'Neill"
    assert photo.thread_id == f"{PAGE_ID}_801234567890456"
    assert photo.reply_to == ""
    assert photo.created_at == dt.datetime(2024, 5, 16, 9, 15, tzinfo=dt.UTC)
    assert photo.attachments == [
        {
            "type": "photo",
            "url": "https://scontent.xx.fbcdn.net/v/t39.30808-6/448000000_n.jpg",
            "alt_text": "",
        }
    ]
    reply = items["801234567890123_990000000000004"]
    assert reply.reply_to == "801234567890123_990000000000002"
    assert reply.thread_id == f"{PAGE_ID}_801234567890123"
    assert reply.text == "Thanks, that's good to know"


def instagram_routes(net: FakeNetwork, budget_header: str | None = None) -> None:
    headers = {"X-Business-Use-Case-Usage": budget_header} if budget_header else {}
    net.route("GET", MEDIA, Response(200, load("ig_media.json"), headers))
    for media in ("101", "102"):
        net.route(
            "GET", f"/v21.0/17900000000000{media}/comments", load(f"ig_comments_{media}.json")
        )


def test_instagram_comments_newer_than_the_cursor_come_oldest_first(ig_account, fake_network):
    usage = json.dumps(
        {
            "17841400000000001": [
                {
                    "type": "instagram",
                    "call_count": 40,
                    "total_cputime": 5,
                    "total_time": 61,
                    "estimated_time_to_regain_access": 0,
                }
            ]
        }
    )
    instagram_routes(fake_network, usage)
    result = instagram.fetch(ig_account, "2024-05-16T09:00:00+00:00")

    media_call = fake_network.calls("GET", MEDIA)[0]
    assert media_call.param("fields") == "id,caption,timestamp"
    comment_calls = [r for r in fake_network.requests if r.path.endswith("/comments")]
    assert len(comment_calls) == 2
    assert all(c.param("fields") == IG_FIELDS for c in comment_calls)
    assert all(c.headers["authorization"] == f"Bearer {TOKEN}" for c in fake_network.requests)

    # 204 is older than the cursor; 202 is the account's own reply.
    assert ids(result.bodies) == ["17850000000000201", "17850000000000205", "17850000000000203"]
    assert result.cursor == "2024-05-16T09:40:00+00:00"
    assert result.budget.remaining == 39
    bodies = [json.loads(b) for b in result.bodies]
    assert all("replies" not in b and b["for_id"] == IG_ID for b in bodies)
    assert bodies[0]["media"] == {"id": "17900000000000101"}

    assert instagram.fetch(ig_account, result.cursor).bodies == []


def test_fetched_instagram_comments_normalise(ig_account, fake_network):
    instagram_routes(fake_network)
    items = [instagram.normalise(b) for b in instagram.fetch(ig_account, "").bodies]
    by_id = {i.external_id: i for i in items}
    reply = by_id["17850000000000203"]
    assert reply.network == "instagram"
    assert reply.author_handle == "@rhian_e"
    assert reply.reply_to == "17850000000000201"
    assert reply.thread_id == "17900000000000101"
    assert reply.created_at == dt.datetime(2024, 5, 16, 9, 40, tzinfo=dt.UTC)
    assert by_id["17850000000000205"].text == "Great to see you out and about 👮"
    assert by_id["17850000000000201"].reply_to == ""


def test_missing_credentials_are_refused(account, force):
    with pytest.raises(NetworkRefused, match="page_access_token"):
        facebook.fetch(account("Westmere Police"), "")
    acct = NetworkAccount.objects.create(force=force, kind="instagram", handle="westmerepolice")
    acct.set_credentials({"page_access_token": TOKEN, "page_id": PAGE_ID})
    with pytest.raises(NetworkRefused, match="ig_user_id"):
        instagram.fetch(acct, "")


# --- normalising webhook shapes --------------------------------------------------------------


def test_a_feed_comment_webhook_normalises_like_the_fetched_comment():
    (body,) = split_events(raw("webhook_feed_comment.json"))
    item = facebook.normalise(body)
    assert item.network == "facebook"
    assert item.external_id == "801234567890123_990000000000002"
    assert item.author_handle == "Sam Patel"
    assert item.text == "Is Dudley Road still closed? Need to get to work"
    assert item.created_at == dt.datetime(2024, 5, 16, 9, 20, 45, tzinfo=dt.UTC)
    assert item.reply_to == ""  # its parent is the post: a top-level comment
    assert item.thread_id == f"{PAGE_ID}_801234567890123"

    delivery = load("webhook_feed_comment.json")
    value = delivery["entry"][0]["changes"][0]["value"]
    value.update(comment_id="801234567890123_990000000000004", parent_id=value["comment_id"])
    (reply_body,) = split_events(json.dumps(delivery))
    assert facebook.normalise(reply_body).reply_to == "801234567890123_990000000000002"


def test_a_messenger_message_normalises():
    (body,) = split_events(raw("webhook_messenger_message.json"))
    item = facebook.normalise(body)
    assert item.network == "facebook"
    assert item.external_id.startswith("m_Ab1cD2")
    assert item.author_handle == f"psid:{PSID}"
    assert item.thread_id == f"conv:{PAGE_ID}-{PSID}"
    assert "harassed & scared" in item.text
    assert item.created_at == dt.datetime(2024, 5, 16, 9, 16, 40, tzinfo=dt.UTC)
    assert item.reply_to == ""


def test_an_instagram_comment_webhook_normalises():
    (body,) = split_events(raw("webhook_instagram_comment.json"))
    assert json.loads(body)["for_id"] == IG_ID
    item = instagram.normalise(body)
    assert item.network == "instagram"
    assert item.external_id == "17850000000000203"
    assert item.author_handle == "@rhian_e"
    assert item.reply_to == "17850000000000201"
    assert item.thread_id == "17900000000000101"
    assert item.created_at == dt.datetime(2024, 5, 16, 9, 40, tzinfo=dt.UTC)


def test_an_instagram_direct_message_normalises():
    (body,) = split_events(raw("webhook_instagram_message.json"))
    item = instagram.normalise(body)
    assert item.network == "instagram"
    assert item.author_handle == "igsid:1234567890123456"
    assert item.thread_id == f"conv:{IG_ID}-1234567890123456"
    assert item.text.startswith("Someone is selling")
    assert item.attachments[0]["type"] == "image"
    assert item.attachments[0]["url"].startswith("https://lookaside.fbsbx.com/")
    assert item.created_at == dt.datetime(2024, 5, 16, 9, 41, 10, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[1]",
        "{}",
        json.dumps({"id": "1_2", "created_time": "2024-05-16T09:00:00+0000"}),  # no text
        json.dumps({"message": "no id", "created_time": "2024-05-16T09:00:00+0000"}),
        json.dumps({"id": "1_2", "message": "hi", "created_time": "soon"}),
        json.dumps({"id": "1", "text": "hi", "timestamp": "2024-05-16T09:00:00+0000"}),  # no user
        json.dumps({"object": "page", "field": "feed", "value": {"item": "like", "verb": "add"}}),
        json.dumps({"object": "page", "messaging": {"sender": {"id": "1"}, "read": {}}}),
        json.dumps(
            {
                "object": "page",
                "messaging": {
                    "sender": {"id": PAGE_ID},
                    "recipient": {"id": PSID},
                    "timestamp": 1715851100000,
                    "message": {"is_echo": True, "mid": "m_1", "text": "ours"},
                },
            }
        ),
    ],
)
def test_unreadable_bodies_are_payload_errors(body):
    with pytest.raises(PayloadError):
        facebook.normalise(body)


# --- webhooks -------------------------------------------------------------------------------


def test_subscription_handshake_answers_only_our_verify_token():
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    assert verify_subscription(params, VERIFY) == "1158201444"
    assert verify_subscription({**params, "hub.verify_token": "guess"}, VERIFY) is None
    assert verify_subscription({**params, "hub.mode": "unsubscribe"}, VERIFY) is None
    assert verify_subscription(params, "") is None
    assert verify_subscription({k: [v] for k, v in params.items()}, VERIFY) == "1158201444"


def test_signatures_are_verified_over_the_raw_body():
    body = (FIXTURES / "webhook_feed_comment.json").read_bytes()
    header = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert verify_signature(body, header, APP_SECRET) is True
    assert verify_signature(body, header.upper().replace("SHA256=", "sha256="), APP_SECRET)
    assert verify_signature(body + b" ", header, APP_SECRET) is False
    assert verify_signature(body, header, "wrong secret") is False
    assert verify_signature(body, "", APP_SECRET) is False
    assert verify_signature(body, None, APP_SECRET) is False
    assert verify_signature(body, header.replace("sha256=", "sha1="), APP_SECRET) is False
    assert verify_signature(body, "sha256=é", APP_SECRET) is False


def test_a_batch_is_split_and_our_own_comments_and_echoes_are_dropped():
    feed = load("webhook_feed_comment.json")
    change = feed["entry"][0]["changes"][0]
    second = json.loads(json.dumps(change))
    second["value"].update(comment_id="801234567890123_990000000000006", message="Me too")
    ours = json.loads(json.dumps(change))
    ours["value"].update(
        comment_id="801234567890123_990000000000007",
        message="It reopened at 9am",
        **{"from": {"id": PAGE_ID, "name": "Westmere Police"}},
    )
    like = {"field": "feed", "value": {"item": "reaction", "verb": "add", "reaction_type": "like"}}
    message = load("webhook_messenger_message.json")["entry"][0]
    echo = load("webhook_messenger_echo.json")["entry"][0]
    read = {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "read": {"watermark": 1}}
    delivery = {
        "object": "page",
        "entry": [
            {**feed["entry"][0], "changes": [change, ours, like, second]},
            {**message, "messaging": [*message["messaging"], *echo["messaging"], read]},
        ],
    }
    bodies = split_events(json.dumps(delivery).encode())
    assert len(bodies) == 3
    records = [json.loads(b) for b in bodies]
    assert all(r["for_id"] == PAGE_ID and r["object"] == "page" for r in records)
    assert [facebook.normalise(b).external_id for b in bodies] == [
        "801234567890123_990000000000002",
        "801234567890123_990000000000006",
        message["messaging"][0]["message"]["mid"],
    ]
    assert split_events(raw("webhook_messenger_echo.json")) == []
    assert split_events(json.dumps({"object": "page", "entry": []})) == []
    with pytest.raises(PayloadError):
        split_events(b"{nope")


# --- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "fixture", "error"),
    [
        (400, "error_page_rate_limit.json", RateLimited),
        (400, "error_app_rate_limit.json", RateLimited),
        (400, "error_unexpected.json", TransientError),
        (400, "error_token_expired.json", NetworkRefused),
        (403, "error_permission.json", NetworkRefused),
    ],
)
def test_graph_error_codes_map_to_the_desks_errors(
    status, fixture, error, fb_account, fake_network
):
    fake_network.route("GET", FEED, Response(status, load(fixture)))
    with pytest.raises(error) as caught:
        facebook.fetch(fb_account, "")
    assert type(caught.value) is error
    assert load(fixture)["error"]["fbtrace_id"] in str(caught.value)


@pytest.mark.parametrize("code", [17, 613])
def test_other_rate_limit_codes_wait_a_minute(code, fb_account, fake_network):
    body = {"error": {"message": f"(#{code}) limit", "type": "OAuthException", "code": code}}
    fake_network.route("GET", FEED, Response(400, body))
    with pytest.raises(RateLimited) as caught:
        facebook.fetch(fb_account, "")
    assert caught.value.retry_after == 60


def test_429_waits_as_long_as_the_headers_say(fb_account, fake_network):
    fake_network.route("GET", FEED, load("page_feed.json"))
    fake_network.fail_next("429", headers={"Retry-After": "120"})
    with pytest.raises(RateLimited) as caught:
        facebook.fetch(fb_account, "")
    assert caught.value.retry_after == 120
    usage = json.dumps(
        {
            PAGE_ID: [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 3,
                    "total_time": 4,
                    "estimated_time_to_regain_access": 7,
                }
            ]
        }
    )
    fake_network.fail_next("429", headers={"X-Business-Use-Case-Usage": usage})
    with pytest.raises(RateLimited) as caught:
        facebook.fetch(fb_account, "")
    assert caught.value.retry_after == 7 * 60


def test_401_is_a_refusal(fb_account, fake_network):
    fake_network.route("GET", FEED, Response(401, load("error_token_expired.json")))
    with pytest.raises(NetworkRefused, match="expired or revoked"):
        facebook.fetch(fb_account, "")


@pytest.mark.parametrize("kind", ["500", "timeout", "malformed"])
def test_server_errors_timeouts_and_malformed_bodies_are_transient(kind, fb_account, fake_network):
    fake_network.route("GET", FEED, load("page_feed.json"))
    fake_network.fail_next(kind)
    started = time.monotonic()
    with pytest.raises(TransientError) as caught:
        facebook.fetch(fb_account, "")
    assert not isinstance(caught.value, RateLimited)
    assert time.monotonic() - started < 2.9


def test_a_feed_in_an_unexpected_shape_is_transient(fb_account, fake_network):
    fake_network.route("GET", FEED, {"data": {"not": "a list"}})
    with pytest.raises(TransientError):
        facebook.fetch(fb_account, "")


def test_a_failing_comment_call_on_instagram_is_transient(ig_account, fake_network):
    instagram_routes(fake_network)
    fake_network.route(
        "GET", "/v21.0/17900000000000101/comments", Response(500, load("error_unexpected.json"))
    )
    with pytest.raises(TransientError):
        instagram.fetch(ig_account, "")


def test_connection_refused_is_transient(fb_account):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fb_account.set_credentials(
        {**fb_account.get_credentials(), "graph_base": f"http://127.0.0.1:{port}/v21.0"}
    )
    with pytest.raises(TransientError):
        facebook.fetch(fb_account, "")


def test_tokens_never_appear_in_errors(fb_account, fake_network):
    echoed = {
        "error": {
            "message": f"Malformed access token {TOKEN}",
            "type": "OAuthException",
            "code": 190,
            "fbtrace_id": "G3hIj5kLmNoPqRsT6vWxYzA",
        }
    }
    fake_network.route("GET", FEED, Response(400, echoed))
    with pytest.raises(NetworkRefused) as caught:
        facebook.fetch(fb_account, "")
    assert TOKEN not in str(caught.value) and APP_SECRET not in str(caught.value)
    assert "Malformed access token" in str(caught.value)
    for kind in ("500", "timeout", "malformed"):
        fake_network.fail_next(kind)
        with pytest.raises(TransientError) as transient:
            facebook.fetch(fb_account, "")
        assert TOKEN not in str(transient.value)


# --- publishing -----------------------------------------------------------------------------


def test_publish_a_page_post(fb_account, fake_network):
    fake_network.route("POST", FEED, load("page_post.json"))
    text = "Dudley Road has reopened. Thanks for your patience this morning."
    assert (
        facebook.publish(fb_account, text, PostOptions(idempotency_key="k1"))
        == f"{PAGE_ID}_801234567890999"
    )
    (call,) = fake_network.calls("POST", FEED)
    assert call.json() == {"message": text}
    assert call.headers["authorization"] == f"Bearer {TOKEN}"


def test_publish_a_comment_reply(fb_account, fake_network):
    path = "/v21.0/801234567890123_990000000000002/comments"
    fake_network.route("POST", path, load("comment_reply.json"))
    new_id = facebook.publish(
        fb_account,
        "Hi Sam, it reopened at 9am.",
        PostOptions(reply_to="801234567890123_990000000000002"),
    )
    assert new_id == "801234567890123_990000000000100"
    assert fake_network.calls("POST", path)[0].json() == {"message": "Hi Sam, it reopened at 9am."}


def test_publish_a_messenger_reply(fb_account, fake_network):
    path = f"/v21.0/{PAGE_ID}/messages"
    fake_network.route("POST", path, load("messenger_send.json"))
    text = "Thank you for telling us. An officer will call you today."
    new_id = facebook.publish(fb_account, text, PostOptions(reply_to=f"conv:{PAGE_ID}-{PSID}"))
    assert new_id.startswith("m_Reply")
    assert fake_network.calls("POST", path)[0].json() == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": text},
    }
    with pytest.raises(ValueError, match="another account"):
        facebook.publish(fb_account, text, PostOptions(reply_to=f"conv:999-{PSID}"))
    with pytest.raises(ValueError, match="2000"):
        facebook.publish(fb_account, "a" * 2001, PostOptions(reply_to=f"conv:{PAGE_ID}-{PSID}"))


def test_a_messenger_reply_outside_the_window_is_refused_clearly(fb_account, fake_network):
    path = f"/v21.0/{PAGE_ID}/messages"
    fake_network.route("POST", path, Response(400, load("error_outside_window.json")))
    with pytest.raises(NetworkRefused, match="24 hours"):
        facebook.publish(fb_account, "Hello", PostOptions(reply_to=f"conv:{PAGE_ID}-{PSID}"))


def test_publish_an_instagram_reply(ig_account, fake_network):
    path = "/v21.0/17850000000000201/replies"
    fake_network.route("POST", path, load("ig_reply.json"))
    assert (
        instagram.publish(
            ig_account,
            "@rhian_e Between the school and the roundabout.",
            PostOptions(reply_to="17850000000000201"),
        )
        == "17850000000000300"
    )
    assert fake_network.calls("POST", path)[0].json() == {
        "message": "@rhian_e Between the school and the roundabout."
    }
    with pytest.raises(NotSupported, match="image"):
        instagram.publish(ig_account, "A new post")


def test_publish_an_instagram_direct_message_reply(ig_account, fake_network):
    path = f"/v21.0/{PAGE_ID}/messages"
    fake_network.route("POST", path, load("messenger_send.json"))
    instagram.publish(
        ig_account,
        "Thanks, we're looking into it",
        PostOptions(reply_to=f"conv:{IG_ID}-1234567890123456"),
    )
    assert fake_network.calls("POST", path)[0].json()["recipient"] == {"id": "1234567890123456"}


def test_empty_text_is_refused_before_anything_is_sent(fb_account, ig_account, fake_network):
    for network, acct in ((facebook, fb_account), (instagram, ig_account)):
        with pytest.raises(ValueError, match="needs some text"):
            network.publish(acct, "   ", PostOptions(reply_to="123_456"))
        with pytest.raises(ValueError, match="needs some text"):
            network.publish(acct, "")
    assert fake_network.requests == []


def test_hide_a_comment(fb_account, ig_account, fake_network):
    fb_path = "/v21.0/801234567890123_990000000000002"
    fake_network.route("POST", fb_path, load("success.json"))
    facebook.hide_comment(fb_account, "801234567890123_990000000000002")
    assert fake_network.calls("POST", fb_path)[0].json() == {"is_hidden": True}
    facebook.hide_comment(fb_account, "801234567890123_990000000000002", hidden=False)
    assert fake_network.calls("POST", fb_path)[1].json() == {"is_hidden": False}

    ig_path = "/v21.0/17850000000000201"
    fake_network.route("POST", ig_path, load("success.json"))
    instagram.hide_comment(ig_account, "17850000000000201")
    assert fake_network.calls("POST", ig_path)[0].param("hide") == "true"

    fake_network.route("POST", ig_path, {"success": False})
    with pytest.raises(TransientError):
        instagram.hide_comment(ig_account, "17850000000000201")


# --- through the desk's ingestion ----------------------------------------------------------


@pytest.fixture
def registered(monkeypatch):
    """The connectors registered for one test (registry.py is not this folder's)."""
    from beatdesk.networks import registry

    monkeypatch.setitem(
        registry.CONNECTORS, "facebook", "beatdesk.networks.facebook.inbound.FacebookNetwork"
    )
    monkeypatch.setitem(
        registry.CONNECTORS, "instagram", "beatdesk.networks.facebook.inbound.InstagramNetwork"
    )
    registry.connector.cache_clear()
    yield
    registry.connector.cache_clear()


def test_fetched_and_webhook_copies_of_a_comment_are_stored_once(
    registered, fb_account, fake_network
):
    from beatdesk.inbox.actions import do_receive
    from beatdesk.inbox.models import Message

    fake_network.route("GET", FEED, load("page_feed.json"))
    for body in facebook.fetch(fb_account, "").bodies:
        do_receive(fb_account, body)
    assert Message.objects.filter(network="facebook").count() == 4

    for body in split_events(raw("webhook_feed_comment.json")):
        do_receive(fb_account, body)
    for body in split_events(raw("webhook_messenger_message.json")):
        do_receive(fb_account, body)
    assert Message.objects.filter(network="facebook").count() == 5
    reply = Message.objects.get(network="facebook", external_id="801234567890123_990000000000004")
    assert reply.thread_id == f"{PAGE_ID}_801234567890123"


def test_fetched_comments_become_messages_through_the_one_ingestion_path(fb_account, fake_network):
    from beatdesk.inbox.models import Message
    from beatdesk.networks.actions import do_fetch

    fake_network.route("GET", FEED, Response(200, load("page_feed.json")))
    outcome = do_fetch(fb_account)
    assert outcome.status == "fetched" and outcome.stored == outcome.fetched > 0
    assert Message.objects.filter(network="facebook").count() == outcome.stored


def test_closing_an_abusive_comment_as_hidden_hides_it_on_facebook(fb_account, fake_network, users):
    from beatdesk.inbox import work
    from beatdesk.inbox.actions import do_receive
    from beatdesk.testing.fixtures import route

    comment = "801234567890123_990000000000002"
    fake_network.route("POST", f"/v21.0/{comment}", Response(200, {"success": True}))
    body = json.dumps(
        {
            "id": comment,
            "message": "you lot are useless pigs",
            "created_time": "2026-03-14T10:00:00+0000",
            "from": {"id": "555", "name": "Angry Person"},
            "post_id": "801234567890123_1",
        }
    )
    message = route(do_receive(fb_account, body).message_id)
    work.check_close(users["dana.desk"], message.pk, "abuse_hidden")
    (hide,) = fake_network.calls("POST", f"/v21.0/{comment}")
    assert "is_hidden" in hide.body.decode()
    message.refresh_from_db()
    assert message.state == "closed" and message.outcome == "abuse_hidden"


def test_the_poller_waits_as_long_as_graph_says(fb_account, fake_network):
    import datetime as dt

    from beatdesk.networks.actions import do_fetch
    from beatdesk.networks.models import ChannelHealth

    fake_network.route("GET", FEED, load("page_feed.json"))
    fake_network.fail_next("429", headers={"Retry-After": "300"})
    started = dt.datetime.now(dt.UTC)
    assert do_fetch(fb_account).status == "failed"
    waits_until = ChannelHealth.objects.get(account=fb_account).next_attempt_at
    assert waits_until >= started + dt.timedelta(seconds=298)
    assert do_fetch(fb_account).status == "waiting"
