"""Background work of the triage step (django.tasks API)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django_tasks import task

from beatdesk.core.tasks import hand_on
from beatdesk.triage.actions import abuse_unsure, do_reread_abuse


@task(queue_name="rereads")
def reread_abuse(message_ids: list[int]) -> None:
    """The stronger abuse model reads messages the fast reading was unsure of."""
    do_reread_abuse(message_ids)


def enqueue_reread_abuse(message_ids: list[int]) -> None:
    """Hand the re-reading on behind routing and all other work: its own lowest queue."""
    hand_on(reread_abuse, message_ids)


@receiver(abuse_unsure)
def _reread_later(sender: Any, *, message_ids: list[int], **kwargs: Any) -> None:
    enqueue_reread_abuse(message_ids)
