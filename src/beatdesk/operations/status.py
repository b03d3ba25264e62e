"""Counts for `beatdesk status` (operators' scripts read the JSON form)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count
from django_tasks_db.models import DBTaskResult

from beatdesk.audit.models import AuditEvent
from beatdesk.cases.models import Case
from beatdesk.core.queues import QUEUES
from beatdesk.inbox.models import Conversation, InboundPayload, Message
from beatdesk.monitoring.models import UnreadableItem
from beatdesk.operations.sweep import backlog
from beatdesk.publishing.models import Post


def rq_queues() -> dict[str, dict[str, int]]:
    """Each of beatdesk's RQ queues: jobs waiting, running, scheduled or deferred, failed."""
    import django_rq

    found = {}
    for name in settings.RQ_QUEUES:
        queue = django_rq.get_queue(name)
        found[name] = {
            "queued": queue.count,
            "started": queue.started_job_registry.count,
            "scheduled": queue.scheduled_job_registry.count,
            "deferred": queue.deferred_job_registry.count,
            "failed": queue.failed_job_registry.count,
        }
    return found


def database_queues() -> dict[str, dict[str, int]]:
    """The database queue, by queue name: tasks ready, running and failed."""
    found: dict[str, dict[str, int]] = {q: {"ready": 0, "running": 0, "failed": 0} for q in QUEUES}
    for queue, status, n in (
        DBTaskResult.objects.filter(status__in=["READY", "RUNNING", "FAILED"])
        .values_list("queue_name", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        found.setdefault(queue, {"ready": 0, "running": 0, "failed": 0})[status.lower()] = n
    return found


def background_work() -> tuple[int | None, int | None, dict[str, dict[str, int]]]:
    """Pending and failed background work, and each queue's detail, on the backend in use;
    under RQ with Redis away, None for both and no queues (the rest of status still counts)."""
    if getattr(settings, "RQ_QUEUES", None):
        from redis.exceptions import RedisError

        try:
            queues = rq_queues()
        except RedisError:
            return None, None, {}
        pending = sum(
            q["queued"] + q["started"] + q["scheduled"] + q["deferred"] for q in queues.values()
        )
        return pending, sum(q["failed"] for q in queues.values()), queues
    queues = database_queues()
    pending = sum(q["ready"] + q["running"] for q in queues.values())
    return pending, sum(q["failed"] for q in queues.values()), queues


def counts() -> dict[str, object]:
    pending, failed, queues = background_work()
    return {
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
        # backlog the workers' sweeper clears (operations/sweep.py).
        **backlog(),
        "queues": queues,
    }
