"""Background work on inbound messages (django.tasks API; Django 6: import from django.tasks)."""

from __future__ import annotations

from django_tasks import task

from beatdesk.triage.actions import do_triage


@task(queue_name="triage")
def process_message(message_id: int) -> None:
    """After a message is stored: triage it (read, grade, route, alert)."""
    do_triage([message_id])


@task(queue_name="triage")
def process_messages(message_ids: list[int]) -> None:
    """The same for a batch, as bulk ingestion hands it on."""
    do_triage(message_ids)
