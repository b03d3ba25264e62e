"""core/sql writes rows exactly as the ORM would: the hot paths use it for triage readings,
messages and stories, and what the desk later reads back must not depend on which wrote it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from beatdesk.core.sql import insert_many, insert_new, insert_returning, update_many
from beatdesk.inbox.models import Message
from beatdesk.triage.models import ContactType, Triage

pytestmark = pytest.mark.django_db

COMPARED = [
    "contact_type",
    "contact_confidence",
    "grade",
    "reasons",
    "language",
    "abusive",
    "abuse_score",
    "abuse_reread_at",
    "personal_data",
    "rumour_score",
    "relevance",
    "routing_rule",
    "model_version",
    "triaged_at",
    "corrected",
]


def _reading(message: Message, **values: Any) -> Triage:
    at = dt.datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=dt.UTC)
    fields: dict[str, Any] = {
        "message": message,
        "contact_type": ContactType.COMPLAINT,  # an enum member, not a plain string
        "contact_confidence": 0.75,
        "grade": 3,
        "reasons": ["words: 'useless'", {"nested": [1, 2.5, None]}],
        "language": "cy",
        "abusive": True,
        "abuse_score": 1,  # an int where a float is stored
        "abuse_reread_at": at,
        "personal_data": [[0, 4, "name"]],
        "rumour_score": 0.0,
        "relevance": 0.5,
        "routing_rule": None,
        "model_version": "2026-12-03",
        "triaged_at": at,
    }
    fields.update(values)
    return Triage(**fields)


def _stored(message: Message) -> dict[str, Any]:
    return Triage.objects.filter(message=message).values(*COMPARED).get()


def _messages(deliver: Any, n: int) -> list[Message]:
    ids = [
        deliver({"id": f"sql-{i}", "network": "x", "author": "@a", "text": f"text {i}"}).message_id
        for i in range(n)
    ]
    return list(Message.objects.filter(pk__in=ids).order_by("pk"))


def test_insert_many_stores_what_the_orm_stores(deliver: Any) -> None:
    ours, theirs = _messages(deliver, 2)
    insert_many(Triage, [_reading(ours)])
    Triage.objects.bulk_create([_reading(theirs)])
    assert _stored(ours) == _stored(theirs)
    assert _stored(ours)["abuse_score"] == 1.0 and _stored(ours)["contact_type"] == "complaint"


def test_update_many_stores_what_the_orm_stores(deliver: Any) -> None:
    ours, theirs = _messages(deliver, 2)
    Triage.objects.bulk_create([_reading(ours), _reading(theirs)])
    later = dt.datetime(2026, 12, 4, 1, 2, 3, tzinfo=dt.UTC)
    changes = {"grade": 1, "abusive": False, "reasons": [], "abuse_reread_at": later}
    a, b = Triage.objects.filter(message__in=[ours, theirs]).order_by("message_id")
    for triage in (a, b):
        for name, value in changes.items():
            setattr(triage, name, value)
    update_many(Triage, [a], list(changes))
    Triage.objects.bulk_update([b], list(changes))
    assert _stored(ours) == _stored(theirs)
    assert _stored(ours)["abuse_reread_at"] == later


def test_update_many_writes_nulls_and_a_row_given_twice_ends_as_its_last(deliver: Any) -> None:
    ours, other = _messages(deliver, 2)
    Triage.objects.bulk_create([_reading(ours), _reading(other)])
    a, b = Triage.objects.filter(message__in=[ours, other]).order_by("message_id")
    a.abuse_reread_at, a.personal_data, b.abuse_reread_at = None, [], None
    update_many(Triage, [a, b], ["abuse_reread_at", "personal_data"])
    assert _stored(ours)["abuse_reread_at"] is None and _stored(ours)["personal_data"] == []
    first, second = Triage.objects.get(pk=a.pk), Triage.objects.get(pk=a.pk)
    first.grade, second.grade = 2, 4
    update_many(Triage, [first, second], ["grade"])
    assert _stored(ours)["grade"] == 4


def test_insert_returning_sets_keys_in_the_order_given(deliver: Any) -> None:
    [message] = _messages(deliver, 1)
    copies = []
    for i in range(3):
        copy = Message.objects.get(pk=message.pk)
        copy.pk = None
        copy.external_id = f"copy-{i}"
        copy.text = f"copy {i}"
        copies.append(copy)
    insert_returning(Message, copies)
    assert [Message.objects.get(pk=c.pk).text for c in copies] == ["copy 0", "copy 1", "copy 2"]


def test_insert_new_skips_rows_already_stored_and_keys_the_rest(deliver: Any) -> None:
    from beatdesk.inbox.models import Conversation

    [message] = _messages(deliver, 1)
    at = dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)
    stored = message.conversation

    def conversation(thread: str) -> Conversation:
        return Conversation(
            network=stored.network,
            account_id=stored.account_id,
            thread_key=thread,
            started_at=at,
            last_message_at=at,
        )

    rows = [conversation("new-1"), conversation(stored.thread_key), conversation("new-2")]
    inserted = insert_new(Conversation, rows, ("network", "account", "thread_key"))
    assert inserted == [rows[0], rows[2]]
    assert rows[1].pk is None  # the stored one is left as it was
    assert Conversation.objects.get(pk=rows[0].pk).thread_key == "new-1"
    assert Conversation.objects.get(pk=rows[2].pk).thread_key == "new-2"
    assert Conversation.objects.get(pk=stored.pk).started_at == stored.started_at
