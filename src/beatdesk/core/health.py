"""What a load balancer asks at /healthz: can this installation do its work right now?

Each check answers {"ok": bool, "detail": str}; the whole answer is ok only when every
check is. The details name counts and ages, never a person or a message.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection

from beatdesk.core.sweep import live_workers


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except Exception as exc:  # noqa: BLE001 (any failure means the database is not usable)
        return {"ok": False, "detail": f"query failed: {type(exc).__name__}"}
    return {"ok": True, "detail": f"{connection.vendor} answered"}


def _redis() -> dict[str, Any]:
    import django_rq

    try:
        django_rq.get_connection("default").ping()
    except Exception as exc:  # noqa: BLE001 (any failure means the queue is not reachable)
        return {"ok": False, "detail": f"ping failed: {type(exc).__name__}"}
    return {"ok": True, "detail": "ping answered"}


def _workers() -> dict[str, Any]:
    try:
        count = live_workers().count()
    except Exception as exc:  # noqa: BLE001 (the database check says why)
        return {"ok": False, "detail": f"cannot read heartbeats: {type(exc).__name__}"}
    if not count:
        return {"ok": False, "detail": "no worker is running (start `beatdesk worker`)"}
    return {"ok": True, "detail": f"{count} live worker(s)"}


def checks() -> dict[str, dict[str, Any]]:
    result = {"database": _database()}
    backend = str(settings.TASKS["default"]["BACKEND"])
    if "rq" in backend.lower():
        result["redis"] = _redis()
    if backend.endswith("ImmediateBackend"):
        result["workers"] = {"ok": True, "detail": "tasks run inline (no workers needed)"}
    else:
        result["workers"] = _workers()
    return result


def report() -> dict[str, Any]:
    found = checks()
    return {"ok": all(c["ok"] for c in found.values()), "checks": found}
