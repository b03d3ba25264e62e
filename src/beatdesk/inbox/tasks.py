"""Background work on inbound messages (django.tasks API; Django 6: import from django.tasks)."""

from __future__ import annotations

from django_tasks import task

from beatdesk.inbox.actions import do_route


@task()
def process_message(message_id: int) -> None:
    """After a message is stored: route it (triage joins here when it lands)."""
    do_route(message_id)
