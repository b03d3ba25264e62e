"""New messages' triage goes ahead of other work, and abuse re-reads behind it."""

from __future__ import annotations

from django_tasks_db.models import DBTaskResult

from beatdesk.core.tasks import hand_on
from beatdesk.inbox.tasks import process_messages
from beatdesk.triage.tasks import enqueue_reread_abuse


def test_triage_is_queued_first_and_rereads_last_on_the_database_queue(db):
    assert hand_on(process_messages, [1, 2])
    enqueue_reread_abuse([3])
    queued = dict(DBTaskResult.objects.values_list("queue_name", "priority"))
    assert queued == {"triage": 10, "rereads": -10}
