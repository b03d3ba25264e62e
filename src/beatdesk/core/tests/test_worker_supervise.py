"""`beatdesk worker` runs its loop again after an outage instead of dying."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from beatdesk.cli import _supervise


def test_the_worker_loop_starts_again_after_redis_or_the_database_goes_away():
    outcomes: list[BaseException | None] = [
        RedisConnectionError("Error 111 connecting to 127.0.0.1:6379"),
        OperationalError("server closed the connection unexpectedly"),
        SystemExit(1),  # how django-rq's rqworker reports a lost Redis
        None,  # a requested stop: the worker returns
    ]
    runs = []

    def work() -> None:
        runs.append(1)
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    _supervise(work, longest_wait=0.01)
    assert len(runs) == 4


def test_a_clean_exit_ends_the_worker_and_a_real_bug_is_not_hidden():
    def stop() -> None:
        raise SystemExit(0)

    _supervise(stop)

    def bug() -> None:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        _supervise(bug)
