"""At force scale the background work can run on RQ workers with Redis: the same tasks, the
same results. A real Redis on loopback, a real `beatdesk worker`, a real replay."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from beatdesk.demo.tests.test_demo_browser import free_port
from beatdesk.testing.processes import installation

pytestmark = pytest.mark.slow

KNIFE = (
    '{"id": "x-1", "network": "x", "author": "@a", "created_at": "2026-03-14T21:13:00Z", '
    '"text": "there\'s a man with a knife outside the Spar on Dudley Rd hurry!!", '
    '"account": "@WestmerePolice"}\n'
    '{"id": "x-2", "network": "x", "author": "@b", "created_at": "2026-03-14T21:14:00Z", '
    '"text": "massive thanks to the officers who found my nan last night", '
    '"account": "@WestmerePolice"}\n'
)


def start_redis(port: int, cwd: Path) -> subprocess.Popen[bytes]:
    server = shutil.which("redis-server")
    assert server, "redis-server is missing: `make test` installs it (scripts/system-deps.sh)"
    return subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
    )


@pytest.fixture
def redis_url(tmp_path):
    port = free_port()
    process = start_redis(port, tmp_path)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_messages_are_triaged_and_routed_by_an_rq_worker(tmp_path, redis_url):
    with installation(tmp_path) as inst:
        inst.env.update(BEATDESK_TASKS="rq", REDIS_URL=redis_url)
        inst.migrate()
        inst.run("seed_demo")
        feed = Path(tmp_path) / "two.jsonl"
        feed.write_text(KNIFE)
        inst.run("replay", str(feed), "--fast")
        assert inst.status()["unrouted_messages"] == 2  # queued in Redis, nobody working yet
        worker = inst.start("worker")
        try:
            deadline = time.monotonic() + 90
            while inst.status()["unrouted_messages"]:
                assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
                assert time.monotonic() < deadline, "the RQ worker never routed the messages"
                time.sleep(0.5)
        finally:
            worker.terminate()
            worker.wait(timeout=20)
        graded = inst.run(
            "shell",
            "-c",
            "from beatdesk.inbox.models import Message as M;"
            "print(sorted((m.external_id, m.triage.grade) for m in M.objects.all()))",
        ).stdout
        assert "('x-1', 1)" in graded and "('x-2', 4)" in graded


def test_a_replay_during_a_redis_outage_stores_and_the_sweeper_hands_on_later(tmp_path):
    """Redis is down: the replay still stores every message and exits cleanly (the hand-over
    is logged, not raised); a worker started meanwhile keeps waiting; when Redis is back its
    sweeper queues the messages and they are triaged."""
    port = free_port()  # nothing listens here yet
    with installation(tmp_path) as inst:
        inst.env.update(
            BEATDESK_TASKS="rq",
            REDIS_URL=f"redis://127.0.0.1:{port}/0",
            BEATDESK_SWEEP_GRACE_SECONDS="1",
            BEATDESK_SWEEP_EVERY_SECONDS="1",
        )
        inst.migrate()
        inst.run("seed_demo")
        feed = Path(tmp_path) / "two.jsonl"
        feed.write_text(KNIFE)
        replayed = inst.run("replay", str(feed), "--fast")
        assert "Traceback" not in replayed.stderr
        assert "the sweeper hands it on" in replayed.stderr
        assert inst.status()["unrouted_messages"] == 2  # committed, waiting unread
        worker = inst.start("worker")  # Redis still down: the worker waits, not exits
        redis = None
        try:
            time.sleep(5)
            assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
            redis = start_redis(port, tmp_path)
            deadline = time.monotonic() + 90
            while inst.status()["unrouted_messages"]:
                assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
                assert time.monotonic() < deadline, "the swept messages were never routed"
                time.sleep(0.5)
        finally:
            worker.terminate()
            worker.wait(timeout=20)
            if redis is not None:
                redis.terminate()
                redis.wait(timeout=10)


def test_rq_jobs_carry_retries_so_a_failed_or_abandoned_job_runs_again(tmp_path, redis_url):
    with installation(tmp_path) as inst:
        inst.env.update(BEATDESK_TASKS="rq", REDIS_URL=redis_url)
        inst.migrate()
        said = inst.run(
            "shell",
            "-c",
            "import django_rq;"
            "from rq.job import Job;"
            "from beatdesk.core.tasks import hand_on;"
            "from beatdesk.inbox.tasks import process_messages;"
            "hand_on(process_messages, [1]);"
            "q = django_rq.get_queue('triage');"
            "[job] = Job.fetch_many(q.get_job_ids(), connection=q.connection);"
            "print(job.retries_left, job.retry_intervals)",
        ).stdout
        assert said.strip().splitlines()[-1] == "3 [10, 30, 60]"
