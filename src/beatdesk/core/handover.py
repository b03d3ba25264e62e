"""Handing committed work to the task backend without ever failing the caller.

The data is already committed when a hand-over runs (on_commit). If Redis or the
database queue is down, raising here would crash the caller (replay, poll, a webhook)
after the fact and tell it nothing useful; the work stays unread and the sweeper
(core/sweep.py) hands it on once the backend answers again.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

BACKEND_DOWN = (RedisConnectionError, RedisTimeoutError, DatabaseError, OSError)


def hand_over(task: object, *args: object) -> bool:
    """Enqueue `task(*args)`; on a backend outage log it and return False instead of raising."""
    try:
        task.enqueue(*args)  # type: ignore[attr-defined]
    except BACKEND_DOWN as exc:
        logger.warning(
            "task backend unavailable, %s left for the sweeper: %s",
            getattr(task, "name", task),
            exc,
        )
        return False
    return True
