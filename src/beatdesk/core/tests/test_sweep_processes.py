"""Nothing stored is left unread, with real processes: a worker killed with SIGKILL between
storing and triage, a receiving process killed after committing the raw payload, Redis
restarted with jobs queued and an RQ worker killed. Each time every message is triaged
exactly once after recovery, and the grade-1 message still raises its alert.

Run on SQLite by default and on PostgreSQL under scripts/with-postgres.sh (DATABASE_URL)."""

from __future__ import annotations

import json
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from beatdesk.demo.tests.test_demo_browser import free_port
from beatdesk.testing.processes import Installation, installation

pytestmark = pytest.mark.slow

KNIFE = "there's a man with a knife outside the Spar on Dudley Rd hurry!! (#{n})"
CHATTER = [
    "what time does the front counter open on Saturday? ({n})",
    "thanks to the officers at the carnival today, great job ({n})",
    "someone keeps parking across my drive on Elm Road again ({n})",
    "lost a black wallet near the bus station, anyone handed it in? ({n})",
]
SWEEP_FAST = {
    "BEATDESK_SWEEP_GRACE_SECONDS": "1",
    "BEATDESK_SWEEP_EVERY_SECONDS": "1",
    "BEATDESK_WORKER_GONE_SECONDS": "3",
}


def records(n: int) -> list[dict[str, str]]:
    """n recorded posts to the force; the first is an emergency."""
    out = []
    for i in range(n):
        text = KNIFE if i == 0 else CHATTER[i % len(CHATTER)]
        out.append(
            {
                "id": f"sweep-{i}",
                "network": "x",
                "author": f"@p{i}",
                "created_at": "2026-03-14T21:13:00Z",
                "text": text.format(n=i),
                "account": "@WestmerePolice",
            }
        )
    return out


def write_feed(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records(n)))
    return path


def query(inst: Installation, sql: str) -> list[tuple[Any, ...]]:
    """Read the installation's database directly (quicker than a `beatdesk` process)."""
    if "DATABASE_URL" not in inst.env:
        with sqlite3.connect(inst.sqlite_path, timeout=30) as db:
            return list(db.execute(sql).fetchall())
    import psycopg

    with psycopg.connect(inst.env["DATABASE_URL"]) as db:
        return list(db.execute(sql).fetchall())  # type: ignore[arg-type]


def scalar(inst: Installation, sql: str) -> int:
    return int(query(inst, sql)[0][0])


def wait_for(what: str, check: Any, timeout: float, workers: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        for worker in workers:
            if worker.poll() is not None:
                said = worker.stdout.read() if worker.stdout else ""
                raise AssertionError(f"a worker stopped while waiting for {what}:\n{said}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@contextmanager
def running(inst: Installation, *args: str) -> Iterator[subprocess.Popen[str]]:
    process = inst.start(*args)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def kill_hard(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def assert_read_once(inst: Installation, n: int) -> None:
    """Every message triaged exactly once, the readings audited once each, and the grade-1
    message's alert raised once."""
    assert scalar(inst, "SELECT COUNT(*) FROM inbox_message") == n
    assert scalar(inst, "SELECT COUNT(*) FROM triage_triage") == n
    assert scalar(inst, "SELECT COUNT(*) FROM inbox_message WHERE routed_at IS NULL") == 0
    said = query(
        inst, "SELECT justification FROM audit_auditevent WHERE action = 'messages.triaged'"
    )
    read = sum(int(re.match(r"(\d+) message", j).group(1)) for (j,) in said)  # type: ignore[union-attr]
    assert read == n, f"{read} readings audited for {n} messages"
    assert query(
        inst,
        "SELECT t.grade, COUNT(a.id) FROM inbox_message m JOIN triage_triage t"
        " ON t.message_id = m.id LEFT JOIN triage_alert a ON a.message_id = m.id"
        " WHERE m.external_id = 'sweep-0' GROUP BY t.grade",
    ) == [(1, 1)]
    assert (
        scalar(
            inst,
            "SELECT COUNT(*) FROM audit_auditevent e JOIN inbox_message m"
            " ON e.object_id = CAST(m.id AS TEXT)"
            " WHERE e.action = 'alert.raised' AND m.external_id = 'sweep-0'",
        )
        == 1
    )


def triaged(inst: Installation) -> int:
    return scalar(inst, "SELECT COUNT(*) FROM triage_triage")


def test_a_worker_killed_between_store_and_triage(tmp_path):
    n = 600
    with installation(tmp_path) as inst:
        inst.env.update(SWEEP_FAST, BEATDESK_TASKS="database")
        inst.migrate()
        inst.run("seed_demo")
        inst.run("replay", str(write_feed(tmp_path / "feed.jsonl", n)), "--fast")
        assert triaged(inst) == 0  # stored; three tasks of 200 wait in the database queue
        with running(inst, "worker", "--interval", "0.1") as first:
            wait_for(
                "the first worker to take a task",
                lambda: scalar(
                    inst,
                    "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult"
                    " WHERE status = 'RUNNING'",
                ),
                45,
                [first],
            )
            kill_hard(first)
        left = n - triaged(inst)
        assert left > 0, "the worker finished before it was killed"
        stuck = scalar(
            inst,
            "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING'",
        )
        assert stuck == 1  # left RUNNING for ever, unless the sweeper sees its worker gone
        with running(inst, "worker", "--interval", "0.1") as second:
            wait_for("every message to be triaged", lambda: triaged(inst) == n, 50, [second])
            wait_for(
                "the lost task to be failed with the reason",
                lambda: (
                    scalar(
                        inst,
                        "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult"
                        " WHERE status = 'RUNNING'",
                    )
                    == 0
                ),
                10,
                [second],
            )
        assert_read_once(inst, n)
        lost = query(
            inst,
            "SELECT exception_class_path FROM django_tasks_database_dbtaskresult"
            " WHERE status = 'FAILED' AND task_path LIKE 'beatdesk.inbox.tasks.%'",
        )
        assert lost == [("beatdesk.operations.sweep.WorkerLost",)]
        assert inst.status()["oldest_unread_age_s"] is None


RECEIVER = """
import json, os, signal, sys
import django
django.setup()
from beatdesk.inbox.actions import _store_payload
from beatdesk.networks.models import NetworkAccount
account = NetworkAccount.objects.get(kind="replay")
for line in open(sys.argv[1]):
    _store_payload(account, line.strip())  # committed: the raw delivery is safe
print("stored", flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # killed before normalising any of them
"""


def test_a_receiver_killed_after_committing_the_raw_payload(tmp_path):
    n = 40
    with installation(tmp_path) as inst:
        inst.env.update(
            SWEEP_FAST, BEATDESK_TASKS="database", DJANGO_SETTINGS_MODULE="beatdesk.settings"
        )
        inst.migrate()
        inst.run("seed_demo")
        feed = write_feed(tmp_path / "feed.jsonl", n)
        with feed.open("a") as f:
            f.write("{not json: a delivery no connector can read\n")
        receiver = tmp_path / "receiver.py"
        receiver.write_text(RECEIVER)
        killed = subprocess.run(
            [*inst.command()[:1], str(receiver), str(feed)],
            env=inst.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert killed.returncode == -signal.SIGKILL and "stored" in killed.stdout, killed.stderr
        before = inst.status()
        assert before["received_payloads"] == n + 1 and before["messages"] == 0
        with running(inst, "worker", "--interval", "0.1") as worker:
            wait_for("every delivery to be read", lambda: triaged(inst) == n, 50, [worker])
            wait_for(
                "the unreadable one to be a dead letter",
                lambda: (
                    scalar(
                        inst, "SELECT COUNT(*) FROM inbox_inboundpayload WHERE status = 'failed'"
                    )
                    == 1
                ),
                10,
                [worker],
            )
        assert_read_once(inst, n)
        after = inst.status()
        assert after["received_payloads"] == 0 and after["dead_letters"] == 1


@pytest.fixture
def redis_server(tmp_path):
    """A Redis on loopback that the test can restart on the same port (no persistence: a
    restart loses every queued job, as a crashed Redis without AOF does)."""
    server = shutil.which("redis-server")
    assert server, "redis-server is missing: `make test` installs it (scripts/system-deps.sh)"
    port = free_port()
    state: dict[str, subprocess.Popen[bytes]] = {}

    def start() -> None:
        state["p"] = subprocess.Popen(
            [
                server,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=port).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop() -> None:
        state["p"].terminate()
        state["p"].wait(timeout=10)

    def restart() -> None:
        stop()
        start()

    start()
    try:
        yield f"redis://127.0.0.1:{port}/0", restart
    finally:
        stop()


def test_redis_restarted_with_jobs_queued_and_an_rq_worker_killed(tmp_path, redis_server):
    url, restart_redis = redis_server
    n = 600
    with installation(tmp_path) as inst:
        inst.env.update(SWEEP_FAST, BEATDESK_TASKS="rq", REDIS_URL=url)
        inst.migrate()
        inst.run("seed_demo")
        inst.run("replay", str(write_feed(tmp_path / "feed.jsonl", n)), "--fast")
        import redis

        assert redis.Redis.from_url(url).llen("rq:queue:triage") == 3  # three batches queued
        restart_redis()
        assert redis.Redis.from_url(url).llen("rq:queue:triage") == 0  # and lost
        queue = redis.Redis.from_url(url)
        with running(inst, "worker") as first:
            # Its sweeper hands the lost messages over again (500, then 100); kill it while
            # it runs one of them.
            wait_for(
                "the first worker to start a job",
                lambda: queue.zcard("rq:wip:triage") > 0,
                45,
                [first],
            )
            kill_hard(first)
        assert triaged(inst) < n and queue.zcard("rq:wip:triage") == 1
        with running(inst, "worker") as second:
            wait_for("every message to be triaged", lambda: triaged(inst) == n, 50, [second])
        assert_read_once(inst, n)
        assert inst.status()["oldest_unread_age_s"] is None
