"""Background work of the triage step (django.tasks API)."""

from __future__ import annotations

from django_tasks import task


@task()
def reread_abuse(message_ids: list[int]) -> None:
    """The stronger abuse model reads messages the fast reading was unsure of."""
    from beatdesk.triage.actions import do_reread_abuse

    do_reread_abuse(message_ids)


def enqueue_reread_abuse(message_ids: list[int]) -> None:
    """Hand the re-reading on behind routing: at a lower priority where the backend keeps
    priorities (the database queue), else in arrival order."""
    chosen = reread_abuse
    if chosen.get_backend().supports_priority:
        chosen = chosen.using(priority=-10)
    from beatdesk.inbox.tasks import hand_on

    hand_on(chosen, message_ids)
