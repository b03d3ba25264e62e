"""Counts for `beatdesk status` (operators' scripts read the JSON form).

The background work is counted where it waits: the database queue by default, or RQ's
queues and registries in Redis when BEATDESK_TASKS=rq (then `queues` gives each queue's
detail as well).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django_tasks_db.models import DBTaskResult

from beatdesk.audit.models import AuditEvent
from beatdesk.cases.models import Case
from beatdesk.core.sweep import backlog
from beatdesk.inbox.models import Conversation, InboundPayload, Message
from beatdesk.monitoring.models import UnreadableItem
from beatdesk.publishing.models import Post


def _rq_work() -> tuple[int, int, dict[str, dict[str, int]]]:
    """Pending (queued, started, scheduled, deferred) and failed jobs across beatdesk's queues."""
    import django_rq

    detail = {}
    for name in settings.RQ_QUEUES:
        queue = django_rq.get_queue(name)
        detail[name] = {
            "queued": queue.count,
            "started": queue.started_job_registry.count,
            "scheduled": queue.scheduled_job_registry.count,
            "deferred": queue.deferred_job_registry.count,
            "failed": queue.failed_job_registry.count,
        }
    pending = sum(
        q["queued"] + q["started"] + q["scheduled"] + q["deferred"] for q in detail.values()
    )
    return pending, sum(q["failed"] for q in detail.values()), detail


def counts() -> dict[str, Any]:
    queues: dict[str, dict[str, int]] = {}
    if hasattr(settings, "RQ_QUEUES") and "rq" in str(settings.TASKS["default"]["BACKEND"]).lower():
        pending, failed, queues = _rq_work()
    else:
        pending = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).count()
        failed = DBTaskResult.objects.filter(status="FAILED").count()
    data: dict[str, Any] = {
        "messages": Message.objects.count(),
        "conversations": Conversation.objects.count(),
        "cases": Case.objects.count(),
        "posts": Post.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "pending_background_work": pending,
        "failed_background_work": failed,
        "dead_letters": InboundPayload.objects.filter(status=InboundPayload.Status.FAILED).count(),
        "watch_dead_letters": UnreadableItem.objects.filter(read_at__isnull=True).count(),
        # What waits to be read: the oldest unread message's age (null when none) and each
        # backlog the workers' sweeper clears (core/sweep.py).
        **backlog(),
    }
    if queues:
        data["queues"] = queues
    return data
