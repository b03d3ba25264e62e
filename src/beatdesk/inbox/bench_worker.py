"""One worker process of `beatdesk bench ingest --workers N`.

A module of its own that imports no models at the top: a spawned process must set Django up
before anything touches the models.
"""

from __future__ import annotations

from typing import Any


def main(account_id: int, bodies: list[str], batch: int, ready: Any, start: Any, done: Any) -> None:
    """Load everything, wait for the start, ingest this worker's share, report.

    A failure is reported to the parent (which then stops every worker) rather than left for
    it to wait on; a worker that fails before the start breaks the barriers instead."""
    import traceback

    try:
        import django

        django.setup()
        from beatdesk.inbox.bench import _ingest
        from beatdesk.networks.models import NetworkAccount
        from beatdesk.triage.engine import read_many

        read_many(["warm up the models"])  # loading the model files is not part of the path
        account = NetworkAccount.objects.get(pk=account_id)
    except BaseException:
        ready.abort()
        start.abort()
        raise
    ready.wait()
    start.wait()
    try:
        ids, stages = _ingest(account, bodies, batch, lambda k: done.put(("progress", k)))
    except BaseException:
        done.put(("error", traceback.format_exc()))
        raise
    done.put(("result", (ids, stages)))
