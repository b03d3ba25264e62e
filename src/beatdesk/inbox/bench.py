"""`beatdesk bench ingest`: the whole inbound path under load, measured.

Generated traffic (the demo scenario's texts with fresh ids, never ../shared) goes through
store → dedupe → triage → route → commit in batches, on the configured database.
"""

from __future__ import annotations

import json
import queue
import resource
import threading
import time
import uuid
from collections.abc import Callable
from importlib.resources import files
from typing import Any

import numpy as np

from beatdesk.inbox.actions import do_receive_many
from beatdesk.inbox.models import Message
from beatdesk.networks.models import NetworkAccount


def generated(n: int) -> list[str]:
    scenario = files("beatdesk.demo").joinpath("scenario.jsonl").read_text(encoding="utf-8")
    records = [json.loads(line) for line in scenario.splitlines() if line.strip()]
    run = uuid.uuid4().hex[:8]
    bodies = []
    for i in range(n):
        record = dict(records[i % len(records)])
        record["id"] = f"bench-{run}-{i}"
        record["reply_to"] = None
        bodies.append(json.dumps(record, ensure_ascii=False))
    return bodies


def _ingest(
    account: NetworkAccount,
    bodies: list[str],
    batch: int,
    progress: Callable[[int], None],
) -> tuple[list[int], dict[str, float]]:
    """Store, dedupe, triage and route the bodies batch by batch, timing each stage."""
    from beatdesk.triage.actions import do_triage

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


def _in_parallel(
    account: NetworkAccount,
    bodies: list[str],
    batch: int,
    workers: int,
    progress: Callable[[int], None],
) -> tuple[list[int], dict[str, float], float]:
    """Split the batches between worker processes, as `beatdesk worker` processes would
    share them, and time from the moment all of them are ready."""
    import multiprocessing

    from django.db import connections

    from beatdesk.inbox import bench_worker

    connections.close_all()
    ctx = multiprocessing.get_context("spawn")  # the language detector's threads do not fork
    ready, start = ctx.Barrier(workers + 1), ctx.Barrier(workers + 1)
    done = ctx.Queue()
    batches = [bodies[i : i + batch] for i in range(0, len(bodies), batch)]
    shares = [[b for chunk in batches[k::workers] for b in chunk] for k in range(workers)]
    procs = [
        ctx.Process(target=bench_worker.main, args=(account.pk, share, batch, ready, start, done))
        for share in shares
    ]
    for proc in procs:
        proc.start()
    try:
        ready.wait()
        started = time.perf_counter()
        start.wait()
    except threading.BrokenBarrierError:
        _stop(procs)
        raise BenchError("a bench worker failed while loading; its error is above") from None
    ids: list[int] = []
    stages = {"store_dedupe_s": 0.0, "triage_route_s": 0.0}
    finished, count = 0, 0
    while finished < workers:
        try:
            kind, value = done.get(timeout=1.0)
        except queue.Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead:
                _stop(procs)
                raise BenchError(f"a bench worker died (exit {dead[0].exitcode})") from None
            continue
        if kind == "progress":
            count += value
            progress(count)
        elif kind == "error":
            _stop(procs)
            raise BenchError(f"a bench worker failed:\n{value}")
        else:
            finished += 1
            ids.extend(value[0])
            for k, v in value[1].items():
                stages[k] += v / workers  # each worker's own time, averaged
    elapsed = time.perf_counter() - started
    for proc in procs:
        proc.join()
        if proc.exitcode:
            raise BenchError(f"a bench worker failed (exit {proc.exitcode})")
    return ids, stages, elapsed


class BenchError(Exception):
    """A bench worker failed; the message says how."""


def _stop(procs: list[Any]) -> None:
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=10)


def run(
    account: NetworkAccount,
    n: int,
    batch: int = 500,
    progress: Callable[[int], None] = lambda done: None,
    workers: int = 1,
) -> dict[str, Any]:
    from beatdesk.triage.engine import read_many

    bodies = generated(n)
    if workers > 1:
        ids, stages, elapsed = _in_parallel(account, bodies, batch, workers, progress)
    else:
        read_many(["warm up the models"])  # loading the model files is not part of the path
        total = 0

        def step(k: int) -> None:
            nonlocal total
            total += k
            progress(total)

        started = time.perf_counter()
        ids, stages = _ingest(account, bodies, batch, step)
        elapsed = time.perf_counter() - started
    latencies = [
        (routed - received).total_seconds() * 1000
        for received, routed in Message.objects.filter(pk__in=ids).values_list(
            "received_at", "routed_at"
        )
        if routed is not None
    ]
    from django.db import connection

    return {
        "database": connection.vendor,
        "messages": n,
        "workers": workers,
        "stored": len(ids),
        "routed": len(latencies),
        "batch": batch,
        "msgs_per_s": round(n / elapsed, 1),
        "p50_ms": round(float(np.percentile(latencies, 50)), 1) if latencies else None,
        "p99_ms": round(float(np.percentile(latencies, 99)), 1) if latencies else None,
        "stage_s": {k: round(v, 3) for k, v in stages.items()},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
