"""The public HTTP doors on hostile bodies: signed X and Meta webhook pushes and the JSON
intake. A push is answered 200 with every event kept (a message or a dead letter, the
whole push kept as a dead letter when it cannot be split); the intake takes a message or
says why in a 4xx. Never a 500, never a delivery lost."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from beatdesk.core.text import is_storable
from beatdesk.inbox.models import InboundPayload, Message
from beatdesk.networks.base import PayloadError
from beatdesk.networks.facebook import webhook as meta_webhook
from beatdesk.networks.x import webhook as x_webhook
from beatdesk.testing.fuzz import fixture, hostile_bytes, json_scalars

pytestmark = pytest.mark.django_db
X_SECRET = "consumer-secret-example"
META_SECRET = "app-secret-example"


@pytest.fixture
def hooks(account):
    x = account("@WestmerePolice")
    x.set_credentials({"consumer_secret": X_SECRET, "user_id": "123456789"})
    x.save()
    meta = account("Westmere Police")
    meta.set_credentials({"app_secret": META_SECRET, "page_id": "104123456789012"})
    meta.save()
    return x, meta


def x_signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(X_SECRET.encode(), body, hashlib.sha256).digest()
    return {"HTTP_X_TWITTER_WEBHOOKS_SIGNATURE": "sha256=" + base64.b64encode(digest).decode()}


def meta_signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"HTTP_X_HUB_SIGNATURE_256": "sha256=" + digest}


def kept(payload: InboundPayload) -> bytes:
    return bytes(payload.body_bytes) if payload.body_bytes is not None else payload.body.encode()


def push(hooks, which: str, body: bytes):
    x, meta = hooks
    account, sign, split = (
        (x, x_signed, x_webhook.split_events)
        if which == "x"
        else (meta, meta_signed, meta_webhook.split_events)
    )
    path = f"/hooks/{'x' if which == 'x' else 'meta'}/{account.pk}/"
    before = InboundPayload.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = Client().post(path, body, content_type="application/json", **sign(body))
    new = list(InboundPayload.objects.filter(pk__gt=before).order_by("pk"))
    try:
        events = split(body)
    except PayloadError:
        events = None
    return response, new, events


def check_push(response, new, events, body):
    assert response.status_code == 200, response.content
    if events is None:  # the push itself could not be read: kept whole, as a dead letter
        assert [p.status for p in new] == ["failed"] and kept(new[0]) == body
        assert new[0].error
    else:
        assert response.json()["received"] == len(events) == len(new)
        assert [kept(p) for p in new] == [e.encode("utf-8", "surrogatepass") for e in events]
        assert all(p.status in {"stored", "duplicate", "own", "failed"} for p in new)
    assert all(is_storable(p.body) for p in new)


@pytest.mark.parametrize(
    "which, name",
    [
        ("x", "x/fixtures/webhook_tweet_create.json"),
        ("x", "x/fixtures/webhook_dm.json"),
        ("meta", "facebook/fixtures/webhook_feed_comment.json"),
        ("meta", "facebook/fixtures/webhook_messenger_message.json"),
    ],
)
@given(data=st.data())
def test_a_signed_hostile_push_is_kept_and_answered_200(hooks, which, name, data):
    body = data.draw(hostile_bytes(fixture(name)))
    check_push(*push(hooks, which, body), body)


@pytest.mark.parametrize("which", ["x", "meta"])
@pytest.mark.parametrize("broken", ["\\udcff", "\\ud83d", "half \\ud83d emoji"])
def test_a_lone_surrogate_in_a_signed_push_is_stored_as_a_message(hooks, which, broken):
    """Was a 500 with nothing stored, so the network's retries failed the same way."""
    name = (
        "x/fixtures/webhook_tweet_create.json"
        if which == "x"
        else "facebook/fixtures/webhook_feed_comment.json"
    )
    text = fixture(name)
    raw = json.dumps(text)
    original = (
        text["tweet_create_events"][0]["text"]
        if which == "x"
        else text["entry"][0]["changes"][0]["value"]["message"]
    )
    body = raw.replace(json.dumps(original)[1:-1], broken, 1).encode()
    response, new, events = push(hooks, which, body)
    check_push(response, new, events, body)
    assert [p.status for p in new] == ["stored"]
    message = Message.objects.get(pk=new[0].message_id)
    assert "\ufffd" in message.text


@pytest.mark.parametrize("which", ["x", "meta"])
@pytest.mark.parametrize(
    "body", [b'{"entry": "caf\xe9"}', b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe{}"]
)
def test_undecodable_or_deep_pushes_are_kept_as_bytes(hooks, which, body):
    """Invalid UTF-8 and deeply nested JSON were 500s."""
    response, new, events = push(hooks, which, body)
    check_push(response, new, events, body)
    assert new[0].body_bytes is not None or body.isascii()


# --- the JSON intake -----------------------------------------------------------------------


SUBMISSION = {"message": "Street light out on Mill Lane", "name": "Sam", "reply_email": ""}


@given(
    data=st.data(),
    extra=st.dictionaries(st.sampled_from(["message", "name", "reply_email"]), json_scalars),
)
def test_the_intake_takes_a_message_or_says_why(force, data, extra):
    cache.clear()
    body = data.draw(hostile_bytes({**SUBMISSION, **extra}))
    before = InboundPayload.objects.count()
    response = Client().post("/api/intake/", body, content_type="application/json")
    assert response.status_code in {201, 400, 413}, response.content
    if response.status_code == 201:
        assert InboundPayload.objects.count() == before + 1
        payload = InboundPayload.objects.latest("pk")
        assert payload.status == "stored" and is_storable(payload.body)
    else:
        assert response.json()["error"]
        assert InboundPayload.objects.count() == before  # a refusal keeps nothing half-done


@pytest.mark.parametrize(
    "body, status",
    [
        (b'{"message": "knife \\udcff outside the Crown"}', 201),
        (b'{"message": "caf\xe9"}', 400),
        (b"[" * 5_000 + b"]" * 5_000, 400),
        (b'{"message": ["a list"]}', 400),
        (b'{"message": "a \\u0000 NUL"}', 201),
    ],
)
def test_the_intake_on_surrogates_bad_bytes_deep_json_and_wrong_types(force, body, status):
    """Each of these was a 500 (or, for a list, stored as its Python repr)."""
    cache.clear()
    response = Client().post("/api/intake/", body, content_type="application/json")
    assert response.status_code == status, response.content
    if status == 201:
        message = Message.objects.get(network="webform")
        assert "\ufffd" in message.text and is_storable(message.raw)
