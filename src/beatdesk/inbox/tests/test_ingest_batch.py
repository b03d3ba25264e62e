"""Batches through the same path: stored once, duplicates and dead letters kept, threaded."""

from __future__ import annotations

import json

import pytest

from beatdesk.audit.models import AuditEvent
from beatdesk.inbox.actions import do_receive_many
from beatdesk.inbox.models import InboundPayload, Message

pytestmark = pytest.mark.django_db


def body(i: int, **extra: object) -> str:
    return json.dumps({"id": f"b-{i}", "network": "mastodon", "text": f"post {i}", **extra})


def test_a_batch_stores_new_messages_once_and_keeps_everything_that_arrived(account):
    replay = account("replay")
    first = do_receive_many(replay, [body(1), body(2), body(2), "{broken"], hand_on=False)
    assert [r.status for r in first] == ["stored", "stored", "duplicate", "failed"]
    assert first[2].message_id == first[1].message_id
    again = do_receive_many(replay, [body(1), body(3)], hand_on=False)
    assert [r.status for r in again] == ["duplicate", "stored"]
    assert Message.objects.count() == 3
    assert InboundPayload.objects.count() == 6
    assert InboundPayload.objects.get(status="failed").body == "{broken"
    assert AuditEvent.objects.filter(action="messages.stored").count() == 2


def test_a_batch_threads_replies_and_uses_the_account_addressed(account):
    replay = account("replay")
    results = do_receive_many(
        replay,
        [
            body(1, network="x", account="@WMP_CanalSide"),
            body(2, network="x", reply_to="b-1", account="@WMP_CanalSide"),
        ],
        hand_on=False,
    )
    a, b = (Message.objects.get(pk=r.message_id) for r in results)
    assert a.conversation_id == b.conversation_id and b.thread_id == "b-1"
    assert a.account.handle == "@WMP_CanalSide" and a.via == "replay"
    later = do_receive_many(
        replay, [body(3, network="x", reply_to="b-2", account="@WMP_CanalSide")], hand_on=False
    )
    c = Message.objects.get(pk=later[0].message_id)
    assert c.conversation_id == a.conversation_id and c.thread_id == "b-1"
