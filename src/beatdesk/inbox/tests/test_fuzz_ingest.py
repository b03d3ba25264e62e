"""The one ingestion path on hostile deliveries, on SQLite and PostgreSQL: every delivery
ends as a stored message (or a duplicate, or the force's own post) or a dead letter with its
reason, and its exact bytes are kept whatever they are: never an exception, never lost."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beatdesk.core.text import is_storable
from beatdesk.inbox.actions import do_receive, do_receive_many, do_retry_payload
from beatdesk.inbox.models import InboundPayload, Message
from beatdesk.networks.models import NetworkAccount
from beatdesk.testing.fuzz import documented_payloads, hostile_bytes

pytestmark = pytest.mark.django_db

PAYLOADS = documented_payloads()
ENDINGS = {"stored", "duplicate", "own", "failed"}


@pytest.fixture
def accounts(force):
    return {
        kind: NetworkAccount.objects.get_or_create(
            force=force, kind=kind, handle=f"fuzz-{kind}", defaults={"display_name": kind}
        )[0]
        for kind in PAYLOADS
    }


def kept_bytes(payload: InboundPayload) -> bytes:
    payload.refresh_from_db()
    if payload.body_bytes is not None:
        return bytes(payload.body_bytes)
    return payload.body.encode("utf-8")


def check_kept(payload_id: int, status: str, body: bytes) -> None:
    payload = InboundPayload.objects.get(pk=payload_id)
    assert status in ENDINGS and payload.status == status
    assert kept_bytes(payload) == body  # the raw payload, exactly
    assert payload.sha256 == hashlib.sha256(body).hexdigest()
    assert is_storable(payload.body)
    if status == "failed":
        assert payload.error  # a dead letter says why
    if status == "stored":
        message = Message.objects.get(pk=payload.message_id)
        assert message.raw == payload.body and message.raw_sha256 == payload.sha256
        assert all(map(is_storable, (message.text, message.author_handle, message.external_id)))


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
@given(data=st.data())
def test_every_delivery_is_kept_and_ends_stored_or_a_dead_letter(accounts, kind, data):
    body = data.draw(hostile_bytes(data.draw(st.sampled_from(PAYLOADS[kind]))))
    result = do_receive(accounts[kind], body)
    check_kept(result.payload_id, result.status, body)


@given(data=st.data())
def test_a_batch_with_hostile_deliveries_keeps_every_one(accounts, data):
    bodies = [
        data.draw(hostile_bytes(base))
        for base in data.draw(st.lists(st.sampled_from(PAYLOADS["replay"]), min_size=1, max_size=6))
    ]
    results = do_receive_many(accounts["replay"], bodies, hand_on=False)
    assert len(results) == len(bodies)
    for result, body in zip(results, bodies, strict=True):
        check_kept(result.payload_id, result.status, body)


@pytest.mark.parametrize(
    "body, reason",
    [
        (b'{"id": "b-1", "text": "caf\xe9 fight"}', "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_a_dead_letter_keeps_its_bytes_when_read_again(accounts, body, reason):
    result = do_receive(accounts["replay"], body)
    payload = InboundPayload.objects.get(pk=result.payload_id)
    assert result.status == "failed" and reason in payload.error
    again = do_retry_payload(payload)
    assert again.status == "failed" and kept_bytes(payload) == body


def test_half_an_emoji_is_stored_as_the_replacement_character(accounts):
    body = '{"id": "h-1", "text": "help \\ud83d at the Crown", "author": "sam"}'
    result = do_receive(accounts["replay"], body)
    message = Message.objects.get(pk=result.message_id)
    assert message.text == "help \ufffd at the Crown"
    assert kept_bytes(InboundPayload.objects.get(pk=result.payload_id)) == body.encode()
