"""Counts for `beatdesk status` (operators' scripts read the JSON form)."""

from __future__ import annotations

from django_tasks_db.models import DBTaskResult

from beatdesk.audit.models import AuditEvent
from beatdesk.cases.models import Case
from beatdesk.core.sweep import backlog
from beatdesk.inbox.models import Conversation, InboundPayload, Message
from beatdesk.monitoring.models import UnreadableItem
from beatdesk.publishing.models import Post


def counts() -> dict[str, int | None]:
    pending = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).count()
    return {
        "messages": Message.objects.count(),
        "conversations": Conversation.objects.count(),
        "cases": Case.objects.count(),
        "posts": Post.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "pending_background_work": pending,
        "failed_background_work": DBTaskResult.objects.filter(status="FAILED").count(),
        "dead_letters": InboundPayload.objects.filter(status=InboundPayload.Status.FAILED).count(),
        "watch_dead_letters": UnreadableItem.objects.filter(read_at__isnull=True).count(),
        # What waits to be read: the oldest unread message's age (null when none) and each
        # backlog the workers' sweeper clears (core/sweep.py).
        **backlog(),
    }
