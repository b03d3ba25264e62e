"""/healthz for a load balancer: the database, the workers' and the scheduler's heartbeats;
503 with the failing check named, no sign-in, no personal data."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from beatdesk.core.clock import now
from beatdesk.core.models import WorkerBeat
from beatdesk.operations.scheduler import Lease

pytestmark = pytest.mark.django_db


def healthz() -> tuple[int, dict]:
    answer = Client().get("/healthz")
    return answer.status_code, json.loads(answer.content)


def test_healthz_fails_until_a_worker_and_the_scheduler_beat():
    status, body = healthz()
    assert status == 503 and body["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["workers"] == {"ok": False, "detail": "no worker is running"}
    assert body["checks"]["scheduler"] == {"ok": False, "detail": "no scheduler has run"}
    at = now()
    WorkerBeat.objects.create(
        worker_id="w1", host="h", pid=1, backend="database", started_at=at, seen_at=at
    )
    assert Lease().renew()
    status, body = healthz()
    assert status == 200 and body["ok"] is True
    assert body["checks"]["workers"] == {"ok": True, "detail": "1 live"}
    assert body["checks"]["scheduler"]["ok"] is True


def test_healthz_fails_when_the_scheduler_stops_renewing(settings):
    at = now()
    WorkerBeat.objects.create(
        worker_id="w1", host="h", pid=1, backend="database", started_at=at, seen_at=at
    )
    Lease().renew()
    from beatdesk.core.models import SchedulerLease

    SchedulerLease.objects.update(expires_at=now() - dt.timedelta(seconds=1))
    status, body = healthz()
    assert status == 503 and body["checks"]["scheduler"]["ok"] is False
    assert "silent" in body["checks"]["scheduler"]["detail"]


def test_a_standby_takes_the_lease_only_when_it_expires():
    first, second = Lease(), Lease()
    assert first.renew() and not second.renew()
    assert first.renew()
    from beatdesk.core.models import SchedulerLease

    SchedulerLease.objects.update(expires_at=now() - dt.timedelta(seconds=1))
    assert second.renew() and not first.renew()


def test_a_job_is_not_handed_over_while_its_last_run_is_queued():
    from django_tasks_db.models import DBTaskResult

    from beatdesk.operations.scheduler import JOBS, enqueue_due

    at = now()
    assert set(enqueue_due(at)) == set(JOBS)
    assert enqueue_due(at + dt.timedelta(minutes=10)) == []  # none has run yet
    lost = at + dt.timedelta(seconds=3601)  # BEATDESK_SCHEDULER_LOST_SECONDS: handed over again
    assert set(enqueue_due(lost)) == set(JOBS)
    assert DBTaskResult.objects.count() == 2 * len(JOBS)
