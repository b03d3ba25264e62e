"""`/healthz`: what a load balancer or monitor asks — can this installation do its work?

Checks the database (a query), Redis when BEATDESK_TASKS=rq (a ping), the workers (at least
one live WorkerBeat) and the scheduler (a lease holder that renewed within the lease time).
Answers {"ok": bool, "checks": {name: {"ok": bool, "detail": str}}}, 503 when one fails.
No personal data: counts and ages only."""

from __future__ import annotations

import os
from collections.abc import Callable

from django.conf import settings
from django.db import connection

from beatdesk.core.clock import now
from beatdesk.operations.scheduler import holder
from beatdesk.operations.sweep import live_workers

Check = tuple[bool, str]


def database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return True, connection.vendor


def redis() -> Check:
    from django_rq import get_connection

    get_connection("default").ping()
    return True, "ping answered"


def workers() -> Check:
    alive = live_workers().count()
    return alive > 0, f"{alive} live" if alive else "no worker is running"


def scheduler() -> Check:
    lease = holder()
    if lease is None:
        return False, "no scheduler has run"
    age = (now() - lease.beat_at).total_seconds()
    live = lease.expires_at > now()
    return live, (f"beat {age:.0f} s ago" if live else f"silent for {age:.0f} s")


def checks() -> dict[str, Callable[[], Check]]:
    found: dict[str, Callable[[], Check]] = {"database": database}
    if os.environ.get("BEATDESK_TASKS") == "rq":
        found["redis"] = redis
    found["workers"] = workers
    if settings.BEATDESK_HEALTH_SCHEDULER:
        found["scheduler"] = scheduler
    return found


def report() -> dict[str, object]:
    results: dict[str, dict[str, object]] = {}
    for name, check in checks().items():
        try:
            ok, detail = check()
        except Exception as exc:  # a check that cannot run has failed; say which way
            ok, detail = False, type(exc).__name__
        results[name] = {"ok": ok, "detail": detail}
        if name == "database" and not ok:
            break  # the rest read the database
    return {"ok": all(r["ok"] for r in results.values()), "checks": results}
