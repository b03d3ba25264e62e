"""Two deliveries of one message racing to store it (the replay's retry beside the workers'
sweeper, or two webhook retries): the second waits on the unique index, loses, and is kept
as a duplicate of the first, not a crash. Needs PostgreSQL's row-level waits; SQLite locks
the whole file, so the race cannot happen there."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection, connections, transaction

from beatdesk.inbox.actions import do_receive
from beatdesk.inbox.models import InboundPayload, Message
from beatdesk.networks.models import NetworkAccount

pytestmark = pytest.mark.django_db(transaction=True)

BODY = json.dumps(
    {
        "id": "x-race",
        "network": "x",
        "author": "@jay_wm4",
        "created_at": "2026-03-14T21:04:10Z",
        "text": "is the Dudley Rd closed?",
        "account": "@WMP_DudleyRd",
    }
)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a race of two connections")
def test_the_delivery_that_loses_the_race_is_a_duplicate(force):
    replay = NetworkAccount.objects.get(force=force, kind="replay")
    inserted = threading.Event()
    first: dict[str, object] = {}

    def the_other_process() -> None:
        try:
            with transaction.atomic():
                first["result"] = do_receive(replay, BODY)
                inserted.set()  # its row is in, not yet committed
                time.sleep(1.0)  # hold it while the second delivery runs into it
        finally:
            connections.close_all()

    other = threading.Thread(target=the_other_process)
    other.start()
    assert inserted.wait(timeout=30)
    second = do_receive(replay, BODY)  # not there yet; its insert waits, then conflicts
    other.join(timeout=30)
    assert first["result"].status == InboundPayload.Status.STORED  # type: ignore[attr-defined]
    assert second.status == InboundPayload.Status.DUPLICATE
    assert Message.objects.filter(external_id="x-race").count() == 1
    assert second.message_id == Message.objects.get(external_id="x-race").pk
