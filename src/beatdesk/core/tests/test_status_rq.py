"""Under RQ, `beatdesk scheduler` hands its jobs to the default queue once, and
`beatdesk status --json` counts the jobs in Redis, not the database queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from beatdesk.core.tests.test_rq_worker import KNIFE, redis_url  # noqa: F401 (a fixture)
from beatdesk.operations.scheduler import JOBS
from beatdesk.testing.processes import installation

pytestmark = pytest.mark.slow


def test_status_reads_the_rq_queues_the_scheduler_fills(tmp_path, redis_url):  # noqa: F811
    with installation(tmp_path) as inst:
        inst.env.update(BEATDESK_TASKS="rq", REDIS_URL=redis_url)
        inst.migrate()
        inst.run("seed_demo")
        assert "holds the lock" in inst.run("scheduler", "--once").stdout
        assert inst.status()["queues"]["default"]["queued"] == len(JOBS)  # type: ignore[index]
        inst.run("scheduler", "--once")  # none handed over twice while queued
        assert inst.status()["queues"]["default"]["queued"] == len(JOBS)  # type: ignore[index]
        feed = Path(tmp_path) / "two.jsonl"
        feed.write_text(KNIFE)
        inst.run("replay", str(feed), "--fast")
        status = inst.status()
        queues = status["queues"]  # type: ignore[index]
        # The replay's triage waits on its own queue, beside the periodic jobs.
        assert queues["triage"]["queued"] >= 1 and queues["triage"]["failed"] == 0
        assert queues["default"]["queued"] == len(JOBS) and queues["default"]["failed"] == 0
        assert status["pending_background_work"] > len(JOBS)
        assert status["failed_background_work"] == 0
        assert "queue default" in inst.run("status").stdout
