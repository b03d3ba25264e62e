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
        # local imports: a spawned process sets Django up before it touches the models
        from beatdesk.inbox.bench_ingest import ingest_timed  # local import: after setup
        from beatdesk.networks.models import NetworkAccount  # local import: after setup
        from beatdesk.triage.engine import read_many  # local import: after setup

        read_many(["warm up the models"])  # loading the model files is not part of the path
        account = NetworkAccount.objects.get(pk=account_id)
    except BaseException:
        ready.abort()
        start.abort()
        raise
    ready.wait()
    start.wait()
    try:
        ids, stages = ingest_timed(account, bodies, batch, lambda k: done.put(("progress", k)))
    except BaseException:
        done.put(("error", traceback.format_exc()))
        raise
    done.put(("result", (ids, stages)))
