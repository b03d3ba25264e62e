"""One worker process of `beatdesk bench ingest --workers N`.

A module of its own that imports no models at the top: a spawned process must set Django up
before anything touches the models.
"""

from __future__ import annotations

from typing import Any


def main(account_id: int, bodies: list[str], batch: int, ready: Any, start: Any, done: Any) -> None:
    """Load everything, wait for the start, ingest this worker's share, report."""
    import django

    django.setup()
    from beatdesk.inbox.bench import _ingest
    from beatdesk.networks.models import NetworkAccount
    from beatdesk.triage.engine import read_many

    read_many(["warm up the models"])  # loading the model files is not part of the path
    account = NetworkAccount.objects.get(pk=account_id)
    ready.wait()
    start.wait()
    ids, stages = _ingest(account, bodies, batch, lambda k: done.put(("progress", k)))
    done.put(("result", (ids, stages)))
