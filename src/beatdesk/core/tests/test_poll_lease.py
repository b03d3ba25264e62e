"""`beatdesk poll`, run for good, takes the scheduler's lock: beside a running scheduler it
stands by instead of running every periodic job a second time."""

from __future__ import annotations

import pytest

from beatdesk.core.models import PeriodicRun, SchedulerLease
from beatdesk.operations.scheduler import Lease, run_inline

# Poll's loop closes the connection each round as a long-running process must; in a test
# transaction that would end the transaction and leak its rows into later tests.
pytestmark = pytest.mark.django_db(transaction=True)


class Stop(Exception):
    pass


def polled(say_until: str) -> list[str]:
    """Run poll's loop until it says something containing `say_until`."""
    said: list[str] = []

    def say(line: str) -> None:
        said.append(line)
        if say_until in line:
            raise Stop

    with pytest.raises(Stop):
        run_inline(say, every=0.01, once=False, verbose=True)
    return said


def test_poll_stands_by_while_a_scheduler_holds_the_lock(force):
    scheduler = Lease()
    assert scheduler.renew()
    said = polled("stands by")
    assert said[-1].endswith("stands by (another scheduler holds the lock)")
    assert not PeriodicRun.objects.exists()  # it ran nothing
    assert SchedulerLease.objects.get().holder == scheduler.holder


def test_poll_holds_the_lock_when_none_does_and_gives_it_up_when_stopped(force):
    said = polled("holds the lock")
    assert said[-1].endswith("holds the lock, running periodic jobs")
    assert not SchedulerLease.objects.exists()  # released as it stopped
