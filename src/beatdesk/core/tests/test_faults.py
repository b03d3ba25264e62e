"""The fault suite: the production path (PostgreSQL, Redis, RQ workers, all on loopback)
through a replay, while it is broken three ways.

- RQ workers killed with SIGKILL at random moments, each replaced as systemd would
  (Restart=always), through a replay of BEATDESK_FAULT_MESSAGES messages (20,000 in
  `make test`, 100,000 in `make soak`);
- PostgreSQL stopped in immediate mode mid-replay, and started again;
- Redis restarted mid-replay, losing what was queued.

After each: every message of the file stored once (none lost, none duplicated), every one
triaged once and routed, the grade-1 message's alert raised once, and `beatdesk audit
verify` passes. Each scenario runs on a PostgreSQL server and a Redis of its own, since
stopping them is the point; so it runs in the PostgreSQL pass of `make test` only."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from beatdesk.core.tests.test_sweep_processes import (
    assert_read_once,
    query,
    scalar,
    write_feed,
)
from beatdesk.testing.processes import Installation
from beatdesk.testing.services import PostgresServer, RedisServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL"),
        reason="the fault suite runs in the PostgreSQL pass (it starts a server of its own)",
    ),
]

MESSAGES = int(os.environ.get("BEATDESK_FAULT_MESSAGES", "20000"))
OUTAGE_MESSAGES = max(MESSAGES // 2, 5000)  # the outage scenarios: one outage each
WORKERS = 2
KILLS = int(os.environ.get("BEATDESK_FAULT_KILLS", "8"))
# The sweeper's pace, quicker than a force's defaults so that a run takes a minute.
SWEEPER = {
    "BEATDESK_SWEEP_GRACE_SECONDS": "5",
    "BEATDESK_SWEEP_EVERY_SECONDS": "2",
    "BEATDESK_WORKER_GONE_SECONDS": "5",
}
SECONDS_PER_THOUSAND = 15  # a generous bound on the time to read a thousand after faults


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Installation, PostgresServer, RedisServer]]:
    """An installation on a PostgreSQL and a Redis of its own, migrated and seeded."""
    (tmp_path / "redis").mkdir()
    postgres = PostgresServer()
    redis_server = RedisServer(tmp_path / "redis")
    postgres.start()
    redis_server.start()
    try:
        inst = Installation(tmp_path / "home", postgres.create_database("beatdesk"))
        inst.env.update(SWEEPER, BEATDESK_TASKS="rq", REDIS_URL=redis_server.url)
        inst.run("migrate", "-v0")
        inst.run("seed_demo")
        yield inst, postgres, redis_server
    finally:
        redis_server.stop()
        postgres.close()


class Workers:
    """`beatdesk worker` processes under a supervisor that starts a new one for each that
    dies, as systemd's Restart=always does."""

    def __init__(self, inst: Installation, count: int) -> None:
        self.inst, self.count = inst, count
        self.processes: list[subprocess.Popen[str]] = []
        self.logs: list[Path] = []
        self.replace()

    def replace(self) -> None:
        self.processes = [p for p in self.processes if p.poll() is None]
        while len(self.processes) < self.count:
            log = self.inst.home / f"worker-{len(self.logs)}.log"
            self.logs.append(log)
            with log.open("w") as out:
                self.processes.append(
                    subprocess.Popen(
                        self.inst.command("worker"),
                        env=self.inst.env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        text=True,
                    )
                )

    def kill_one(self, rng: random.Random) -> bool:
        """Kill one at random; True when a triage job was running at that moment."""
        busy = bool(redis.Redis.from_url(self.inst.env["REDIS_URL"]).zcard("rq:wip:triage"))
        victim = rng.choice(self.processes)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        self.replace()
        return busy

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def said(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in self.logs)


@contextmanager
def workers(inst: Installation, count: int = WORKERS) -> Iterator[Workers]:
    pool = Workers(inst, count)
    try:
        yield pool
    finally:
        pool.stop()


def stored(inst: Installation) -> int:
    return scalar(inst, "SELECT COUNT(*) FROM inbox_message")


def all_read(inst: Installation, n: int) -> bool:
    return (
        scalar(
            inst,
            "SELECT COUNT(*) FROM inbox_message m JOIN triage_triage t ON t.message_id = m.id"
            " WHERE m.routed_at IS NOT NULL",
        )
        == n
    )


def until(what: str, check: Callable[[], bool], timeout: float, pool: Workers) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):  # the database is down for the moment
            if check():
                return
        pool.replace()  # a worker that died is started again, as systemd would
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}\n{pool.said()}")
        time.sleep(0.25)


def finish_replay(replay: subprocess.Popen[str], n: int, pool: Workers) -> str:
    out, _ = replay.communicate(timeout=120 + n * SECONDS_PER_THOUSAND / 1000)
    assert replay.returncode == 0, f"replay exited {replay.returncode}:\n{out}\n{pool.said()}"
    assert f"replayed {n} posts" in out, out
    return out


def assert_whole(inst: Installation, n: int) -> None:
    """None lost, none twice, each read once, and the audit chain whole."""
    ids = scalar(inst, "SELECT COUNT(DISTINCT external_id) FROM inbox_message")
    assert ids == n == stored(inst)
    assert_read_once(inst, n)
    verified = json.loads(inst.run("audit", "verify", "--json").stdout.strip().splitlines()[-1])
    assert verified["ok"] and verified["unsealed"] == 0, verified


def test_rq_workers_killed_at_random_through_a_replay(stack, tmp_path):
    inst, _, _ = stack
    n = MESSAGES
    feed = write_feed(tmp_path / "feed.jsonl", n)
    rng = random.Random(n)
    with workers(inst) as pool:
        replay = inst.start("replay", str(feed), "--fast", "--no-progress")
        kills = mid_job = 0
        deadline = time.monotonic() + 60 + n * SECONDS_PER_THOUSAND / 1000
        while kills < KILLS and time.monotonic() < deadline and not all_read(inst, n):
            time.sleep(rng.uniform(0.5, 3.0))
            mid_job += pool.kill_one(rng)
            kills += 1
        finish_replay(replay, n, pool)
        until("every message to be read", lambda: all_read(inst, n), 60 + n / 100, pool)
    assert kills >= 3 and mid_job >= 1, f"{kills} kills, {mid_job} mid-job, before all was read"
    assert_whole(inst, n)
    requeued = query(
        inst, "SELECT justification FROM audit_auditevent WHERE action = 'triage.requeued'"
    )
    print(
        f"\n{n} messages, {kills} workers killed ({mid_job} with a triage job running),"
        f" {sum(int(j.split()[0]) for (j,) in requeued)} messages handed on again by the"
        f" sweeper in {len(requeued)} rounds"
    )


def postgresql_stopped_in_immediate_mode(postgres: PostgresServer, _: RedisServer) -> None:
    postgres.stop("immediate")
    time.sleep(3)
    postgres.start()


def redis_restarted(_: PostgresServer, redis_server: RedisServer) -> None:
    redis_server.stop()  # what was queued is lost with it
    time.sleep(2)
    redis_server.start()


@pytest.mark.parametrize("outage", [postgresql_stopped_in_immediate_mode, redis_restarted])
def test_an_outage_mid_replay(stack, tmp_path, outage):
    inst, postgres, redis_server = stack
    n = OUTAGE_MESSAGES
    feed = write_feed(tmp_path / "feed.jsonl", n)
    with workers(inst) as pool:
        replay = inst.start("replay", str(feed), "--fast", "--no-progress")
        until("a third of the replay to be stored", lambda: stored(inst) >= n // 3, 60, pool)
        assert replay.poll() is None, "the replay ended before the outage: give it more"
        outage(postgres, redis_server)
        assert replay.poll() is None, "the replay gave up during the outage"
        finish_replay(replay, n, pool)
        until("every message to be read", lambda: all_read(inst, n), 60 + n / 100, pool)
        alive = all(p.poll() is None for p in pool.processes)
    assert alive and len(pool.logs) == WORKERS, "a worker died of the outage\n" + pool.said()
    assert_whole(inst, n)
