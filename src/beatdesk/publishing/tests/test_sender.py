"""Sending: once only, never an internal note, failures kept, our echo never taken in."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from beatdesk.audit.models import AuditEvent
from beatdesk.inbox.actions import do_receive
from beatdesk.inbox.models import InboundPayload, Message
from beatdesk.publishing.models import Post
from beatdesk.publishing.sender import SendRefused, do_send
from beatdesk.testing.fakenet import Response

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[2] / "networks" / "mastodon" / "fixtures"


@pytest.fixture
def masto(account, fake_network):
    acct = account("@westmerepolice@social.police.example")
    acct.set_credentials({"instance": fake_network.base_url, "access_token": "tok"})
    acct.save()
    return acct


def new_post(account, users, **extra) -> Post:
    return Post.objects.create(
        force=account.force,
        account=account,
        author=users["dana.desk"],
        text="Thanks for letting us know, officers are on their way.",
        idempotency_key=uuid.uuid4().hex,
        **extra,
    )


def test_a_post_is_sent_once_however_often_it_is_retried(masto, users, fake_network):
    fake_network.route("POST", "/api/v1/statuses", Response(200, {"id": "109999", "content": "x"}))
    post = new_post(masto, users)
    sent = do_send(post)
    assert sent.status == "sent" and sent.external_id == "109999"
    again = do_send(sent)
    assert again.status == "sent"
    assert len(fake_network.calls("POST", "/api/v1/statuses")) == 1
    request = fake_network.calls("POST", "/api/v1/statuses")[0]
    assert request.headers["idempotency-key"] == post.idempotency_key
    event = AuditEvent.objects.get(action="post.sent")
    assert event.category == "disclosure" and "mastodon" in event.recipient


def test_an_internal_note_is_never_sent(masto, users, fake_network):
    with pytest.raises(SendRefused, match="internal note"):
        do_send(new_post(masto, users, internal=True))
    assert fake_network.calls("POST", "/api/v1/statuses") == []


def test_a_failed_send_is_kept_with_its_reason_and_can_be_retried(masto, users, fake_network):
    fake_network.route("POST", "/api/v1/statuses", Response(200, {"id": "110000"}))
    fake_network.fail_next("500")
    post = do_send(new_post(masto, users))
    assert post.status == "failed" and post.error
    assert do_send(post).status == "sent"


def test_our_own_post_coming_back_is_not_taken_in(masto, users, fake_network):
    fake_network.route("POST", "/api/v1/statuses", Response(200, {"id": "110001"}))
    do_send(new_post(masto, users))
    echo = json.loads((FIXTURES / "notifications.json").read_text())[0]
    echo["status"]["id"] = "110001"
    result = do_receive(masto, json.dumps(echo))
    assert result.status == "own"
    assert Message.objects.count() == 0 and InboundPayload.objects.get().status == "own"
