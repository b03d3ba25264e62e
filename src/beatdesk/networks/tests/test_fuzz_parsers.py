"""Every connector's normaliser, and the webhook splitters, on hostile input: each delivery
is read (an Inbound of text) or refused with a PayloadError saying why, never anything
else. The ingestion path turns a refusal into a dead letter; any other exception would be
a 500 or a stopped batch."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beatdesk.core.text import decoded
from beatdesk.networks.base import Inbound, PayloadError, parse_time
from beatdesk.networks.facebook import webhook as meta_webhook
from beatdesk.networks.registry import connector
from beatdesk.networks.x import webhook as x_webhook
from beatdesk.testing.fuzz import documented_payloads, hostile_bytes, hostile_email, json_scalars

PAYLOADS = documented_payloads()


def _as_text(body: bytes) -> str:
    """What the ingestion path hands a connector: the text, or (not UTF-8) never called."""
    try:
        return decoded(body)
    except UnicodeDecodeError:
        return body.decode("utf-8", "replace")


def _read(kind: str, body: bytes) -> Inbound | None:
    try:
        item = connector(kind).normalise(_as_text(body))
    except PayloadError as exc:
        assert str(exc)  # a reason for the dead letter
        return None
    assert isinstance(item, Inbound)
    for name in ("network", "external_id", "author_handle", "text", "author_name", "language"):
        assert isinstance(getattr(item, name), str), name
    assert item.created_at.tzinfo is not None
    assert isinstance(item.attachments, list)
    return item


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_the_documented_payloads_are_read(kind):
    read = [_read(kind, json.dumps(payload).encode()) for payload in PAYLOADS[kind]]
    assert any(read), f"none of the {kind} payloads is read: the fuzzing starts nowhere"


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
@given(data=st.data())
def test_a_normaliser_reads_or_refuses_hostile_input(kind, data):
    base = data.draw(st.sampled_from(PAYLOADS[kind]))
    _read(kind, data.draw(hostile_bytes(base)))


@given(body=hostile_email())
def test_an_email_with_broken_bytes_is_read_or_refused(body):
    _read("email", body)


@pytest.mark.parametrize(
    "split, fixture",
    [
        (x_webhook.split_events, "x/fixtures/webhook_tweet_create.json"),
        (meta_webhook.split_events, "facebook/fixtures/webhook_feed_comment.json"),
        (meta_webhook.split_events, "facebook/fixtures/webhook_messenger_message.json"),
    ],
)
@given(data=st.data())
def test_a_webhook_push_splits_or_is_refused(split, fixture, data):
    from beatdesk.testing.fuzz import fixture as load

    body = data.draw(hostile_bytes(load(fixture)))
    try:
        events = split(body)
    except PayloadError:
        return
    assert all(isinstance(e, str) for e in events)


@given(value=st.one_of(json_scalars, st.datetimes(), st.lists(st.integers(), max_size=2)))
def test_a_time_is_read_or_refused(value):
    try:
        parsed = parse_time(value)
    except PayloadError:
        return
    assert parsed.tzinfo is dt.UTC
