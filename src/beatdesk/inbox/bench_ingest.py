"""The path `beatdesk bench ingest` measures, batch by batch: store and dedupe, then triage
and route, each stage timed. Used by the bench itself and by each of its worker processes
(inbox/bench_worker.py, which imports this only once Django is set up)."""

from __future__ import annotations

import time
from collections.abc import Callable

from beatdesk.inbox.actions import do_receive_many
from beatdesk.networks.models import NetworkAccount
from beatdesk.triage.actions import do_triage


def ingest_timed(
    account: NetworkAccount,
    bodies: list[str],
    batch: int,
    progress: Callable[[int], None],
) -> tuple[list[int], dict[str, float]]:
    """Store, dedupe, triage and route the bodies batch by batch, timing each stage."""
    stages = {"store_dedupe_s": 0.0, "triage_route_s": 0.0}
    ids: list[int] = []
    for start in range(0, len(bodies), batch):
        chunk = bodies[start : start + batch]
        t0 = time.perf_counter()
        results = do_receive_many(account, chunk, hand_on=False)
        t1 = time.perf_counter()
        stored = [r.message_id for r in results if r.status == "stored" and r.message_id]
        do_triage(stored)
        t2 = time.perf_counter()
        stages["store_dedupe_s"] += t1 - t0
        stages["triage_route_s"] += t2 - t1
        ids.extend(stored)
        progress(len(chunk))
    return ids, stages
