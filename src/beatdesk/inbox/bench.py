"""`beatdesk bench ingest`: the whole inbound path under load, measured.

Generated traffic (the demo scenario's texts with fresh ids, never ../shared) goes through
store → dedupe → triage → route → commit, on the configured database. Two ways:

- batches (`run`): this process, or N processes sharing the batches, store and triage
  as fast as they can;
- a sustained rate (`sustained`, `--rate R`): messages are delivered one at a time, R a
  second, through the same door as a network's delivery (do_receive), while N real
  `beatdesk worker` processes (RQ with BEATDESK_TASKS=rq, else the database queue) triage
  and route them; the figure is each message's receipt-to-routed time.
"""

from __future__ import annotations

import json
import os
import queue
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from importlib.resources import files
from typing import Any

import numpy as np
from django.db.models import Max, Min

from beatdesk.core.models import WorkerBeat
from beatdesk.inbox import bench_worker
from beatdesk.inbox.actions import do_receive
from beatdesk.inbox.bench_ingest import ingest_timed
from beatdesk.inbox.models import Message
from beatdesk.networks.models import NetworkAccount
from beatdesk.triage.engine import read_many


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
        ids, stages = ingest_timed(account, bodies, batch, step)
        elapsed = time.perf_counter() - started
    latencies = _latencies_ms(ids)
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


def _latencies_ms(ids: list[int]) -> list[float]:
    """Receipt to routed, for each message routed."""
    return [
        (routed - received).total_seconds() * 1000
        for received, routed in Message.objects.filter(pk__in=ids).values_list(
            "received_at", "routed_at"
        )
        if routed is not None
    ]


# How long workers may take to load their models, and the backlog to drain after the feed.
READY_TIMEOUT_S = 180.0
DRAIN_TIMEOUT_S = 300.0


def _start_workers(count: int, log_dir: str) -> tuple[list[subprocess.Popen[bytes]], list[str]]:
    """N `beatdesk worker` processes of this installation, each known by a name of its own."""
    rq = os.environ.get("BEATDESK_TASKS") == "rq"
    run_id = uuid.uuid4().hex[:6]
    names = [f"bench-{run_id}-{k}" for k in range(count)]
    procs = []
    for name in names:
        log = open(os.path.join(log_dir, f"{name}.log"), "wb")  # noqa: SIM115 - the child's
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "beatdesk",
                    "worker",
                    "--name" if rq else "--worker-id",
                    name,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        )
    return procs, names


def stop_processes(procs: list[subprocess.Popen[Any]]) -> None:
    """SIGTERM to each (a worker finishes its job in hand), then wait; kill after 30 s."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait(what: str, done: Callable[[], bool], timeout: float, procs: list[Any], logs: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise BenchError(f"a worker exited ({dead[0].returncode}) {what}; logs in {logs}")
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f} s {what}; worker logs in {logs}")
        time.sleep(0.2)


def sustained(
    account: NetworkAccount,
    n: int,
    rate: float,
    workers: int,
    progress: Callable[[int], None] = lambda done: None,
) -> dict[str, Any]:
    """Deliver n messages at `rate` a second to `workers` running `beatdesk worker`
    processes; receipt-to-routed p50/p99 once every message is routed."""
    from django.db import connection

    bodies = generated(n)
    logs = tempfile.mkdtemp(prefix="beatdesk-bench-workers-")
    procs, names = _start_workers(workers, logs)
    try:
        _wait(
            "while loading",
            lambda: WorkerBeat.objects.filter(worker_id__in=names).count() == workers,
            READY_TIMEOUT_S, procs, logs,
        )  # fmt: skip
        ids: list[int] = []
        started = time.monotonic()
        for i, body in enumerate(bodies):
            time.sleep(max(0.0, started + i / rate - time.monotonic()))
            received = do_receive(account, body)
            if received.message_id:
                ids.append(received.message_id)
            progress(i + 1)
        fed_s = time.monotonic() - started
        pending = Message.objects.filter(pk__in=ids, routed_at__isnull=True)
        _wait("draining the backlog", lambda: not pending.exists(), DRAIN_TIMEOUT_S, procs, logs)
    finally:
        stop_processes(procs)
    shutil.rmtree(logs)  # kept, and named in the error, only when a worker failed
    latencies = _latencies_ms(ids)
    span = Message.objects.filter(pk__in=ids).aggregate(
        first=Min("received_at"), last=Max("routed_at")
    )
    busy_s = (span["last"] - span["first"]).total_seconds()
    return {
        "database": connection.vendor,
        "tasks": os.environ.get("BEATDESK_TASKS") or "database",
        "workers": workers,
        "messages": n,
        "rate_per_s": rate,
        "offered_per_s": round(n / fed_s, 1),
        "routed_per_s": round(len(latencies) / busy_s, 1),
        "stored": len(ids),
        "routed": len(latencies),
        "p50_ms": round(float(np.percentile(latencies, 50)), 1),
        "p99_ms": round(float(np.percentile(latencies, 99)), 1),
        "max_ms": round(max(latencies), 1),
    }
