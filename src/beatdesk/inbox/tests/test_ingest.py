"""The ingestion path: raw first, normalised, stored once, threaded, handed on."""

from __future__ import annotations

import json

import pytest

from beatdesk.audit.models import AuditEvent
from beatdesk.core.digest import sha256_hex
from beatdesk.inbox.models import Conversation, InboundPayload, Message
from beatdesk.testing.fixtures import route as do_route

pytestmark = pytest.mark.django_db(transaction=False)

KNIFE = {
    "id": "x-1001",
    "network": "x",
    "author": "@jay_wm4",
    "author_name": "Jay",
    "created_at": "2026-03-14T21:04:10Z",
    "text": "there's a man with a knife outside the Spar on Dudley Rd hurry!!",
    "account": "@WMP_DudleyRd",
}


def test_a_delivery_is_stored_raw_verbatim_and_normalised(deliver):
    body = json.dumps(KNIFE, indent=None) + "  "  # trailing bytes must survive verbatim
    result = deliver(body)
    assert result.status == "stored"
    message = Message.objects.get(pk=result.message_id)
    assert message.raw == body
    assert message.raw_sha256 == sha256_hex(body)
    payload = InboundPayload.objects.get(pk=result.payload_id)
    assert payload.body == body and payload.status == "stored" and payload.message == message
    assert message.network == "x" and message.via == "replay"
    assert message.external_id == "x-1001"
    assert message.author_handle == "@jay_wm4" and message.author_name == "Jay"
    assert message.account.handle == "@WMP_DudleyRd"
    assert message.created_at.isoformat() == "2026-03-14T21:04:10+00:00"
    assert AuditEvent.objects.filter(action="message.stored", object_id=str(message.pk)).exists()


def test_delivering_the_same_message_twice_stores_it_once(deliver):
    first = deliver(KNIFE)
    second = deliver(KNIFE)
    assert first.status == "stored"
    assert second.status == "duplicate" and second.message_id == first.message_id
    assert Message.objects.count() == 1
    # Both deliveries are kept as received: nothing that arrived is lost.
    assert InboundPayload.objects.count() == 2


def test_same_external_id_on_another_network_is_another_message(deliver):
    deliver(KNIFE)
    deliver({**KNIFE, "network": "mastodon", "account": ""})
    assert Message.objects.count() == 2


def test_the_database_refuses_a_second_row_for_network_and_external_id(deliver):
    from django.db import IntegrityError, transaction

    stored = Message.objects.get(pk=deliver(KNIFE).message_id)
    stored.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        stored.save()


def test_an_unreadable_delivery_is_kept_as_a_dead_letter(deliver):
    result = deliver('{"text": ')
    assert result.status == "failed"
    payload = InboundPayload.objects.get(pk=result.payload_id)
    assert payload.body == '{"text": '
    assert "not JSON" in payload.error
    assert Message.objects.count() == 0


def test_a_post_without_text_is_a_dead_letter_with_a_reason(deliver):
    result = deliver({"id": "1", "text": "   "})
    assert result.status == "failed" and "text" in result.error


def test_replies_join_the_conversation_of_the_message_they_answer(deliver):
    root = deliver({"id": "fb-1", "network": "facebook", "author": "kim", "text": "Lost my purse"})
    reply = deliver(
        {
            "id": "fb-2",
            "network": "facebook",
            "author": "kim",
            "text": "found it!",
            "reply_to": "fb-1",
        }
    )
    other = deliver({"id": "fb-3", "network": "facebook", "author": "lee", "text": "hello"})
    a, b, c = (Message.objects.get(pk=r.message_id) for r in (root, reply, other))
    assert a.conversation == b.conversation != c.conversation
    assert b.thread_id == "fb-1" and b.reply_to_external_id == "fb-1"
    assert Conversation.objects.count() == 2


def test_a_reply_that_arrives_before_its_parent_still_shares_its_conversation(deliver):
    child = deliver({"id": "m-2", "network": "mastodon", "text": "me too", "reply_to": "m-1"})
    parent = deliver({"id": "m-1", "network": "mastodon", "text": "power cut?"})
    assert (
        Message.objects.get(pk=child.message_id).conversation_id
        == Message.objects.get(pk=parent.message_id).conversation_id
    )


def test_twitter_dates_and_ids_from_the_pheme_shape(deliver):
    result = deliver(
        {
            "id": "552783238415265792",
            "created_at": "Wed Jan 07 11:06:08 +0000 2015",
            "text": "Breaking: shots fired",
            "in_reply_to_status_id": None,
            "lang": "en",
        }
    )
    message = Message.objects.get(pk=result.message_id)
    assert message.created_at.isoformat() == "2015-01-07T11:06:08+00:00"
    assert message.language == "en" and message.network == "replay"


def test_routing_puts_a_team_account_message_in_that_teams_queue_with_a_reason(deliver):
    from beatdesk.triage.models import RoutingRule

    RoutingRule.objects.all().delete()  # the fall-back when no supervisor's rule matches
    message_id = deliver(KNIFE).message_id
    message = do_route(message_id)
    assert message is not None
    assert message.team.name == "Dudley Road NPT"
    assert message.area.name == "Dudley Road"
    assert "@WMP_DudleyRd" in message.routing_reason


def test_routing_sends_force_account_messages_to_the_digital_desk(deliver):
    from beatdesk.triage.models import RoutingRule

    RoutingRule.objects.all().delete()
    message_id = deliver(
        {**KNIFE, "id": "x-2", "account": "@WestmerePolice", "text": "hello from nowhere"}
    ).message_id
    message = do_route(message_id)
    assert message is not None and message.team.name == "Digital Desk"
    assert "digital desk" in message.routing_reason


def test_storing_a_message_hands_it_on_as_background_work(
    deliver, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        result = deliver(KNIFE)
    task = DBTaskResult.objects.get()
    assert task.task_path.endswith("process_message")
    assert task.args_kwargs["args"] == [result.message_id]
