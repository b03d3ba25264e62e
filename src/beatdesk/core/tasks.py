"""Handing work to the task queue (django.tasks API; Django 6: import from django.tasks):
after a commit, never raising into the caller, each queue at its priority."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError
from django_tasks.base import Task

from beatdesk.core.queues import PRIORITY

logger = logging.getLogger(__name__)


def backend_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (DatabaseError, OSError)
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is only needed under RQ
        return errors
    return (*errors, RedisError)


def hand_on(chosen: Task[Any, Any], *args: Any) -> bool:
    """Enqueue `chosen` after a commit, without ever raising into the caller.

    The one hand-over to the task queue: the ingestion path (webhooks, poll, the scheduler,
    replay, the sweeper), triage's re-readings and the scheduler's periodic jobs. The task's
    queue gives its priority where the backend keeps priorities (the database queue;
    core/queues.py). When the queue's backend (Redis, or the database queue's table) is out,
    the error is logged and False returned. The messages stay committed and unread, and the
    sweeper (operations/sweep.py) hands them on once the backend is back.
    """
    if chosen.get_backend().supports_priority and chosen.priority == 0:
        chosen = chosen.using(priority=PRIORITY.get(chosen.queue_name, 0))
    try:
        chosen.enqueue(*args)
    except backend_errors() as exc:
        logger.warning(
            "hand-over of %s failed (%s: %s); the sweeper hands it on when the queue is back",
            chosen.module_path,
            type(exc).__name__,
            exc,
        )
        return False
    return True
