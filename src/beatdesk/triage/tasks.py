"""Background work of the triage step (django.tasks API)."""

from __future__ import annotations

from django_tasks import task


@task(queue_name="rereads")
def reread_abuse(message_ids: list[int]) -> None:
    """The stronger abuse model reads messages the fast reading was unsure of."""
    from beatdesk.triage.actions import do_reread_abuse

    do_reread_abuse(message_ids)


def enqueue_reread_abuse(message_ids: list[int]) -> None:
    """Hand the re-reading on behind routing and all other work: its own lowest queue."""
    from beatdesk.inbox.tasks import hand_on

    hand_on(reread_abuse, message_ids)
