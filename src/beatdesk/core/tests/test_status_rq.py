"""`beatdesk status --json` under RQ counts the jobs in Redis, not the database queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from beatdesk.core.tests.test_rq_worker import KNIFE, redis_url  # noqa: F401 (a fixture)
from beatdesk.testing.processes import installation

pytestmark = pytest.mark.slow


def test_status_reads_the_rq_queues(tmp_path, redis_url):  # noqa: F811
    with installation(tmp_path) as inst:
        inst.env.update(BEATDESK_TASKS="rq", REDIS_URL=redis_url)
        inst.migrate()
        inst.run("seed_demo")
        feed = Path(tmp_path) / "two.jsonl"
        feed.write_text(KNIFE)
        inst.run("replay", str(feed), "--fast")
        status = inst.status()
        default = status["queues"]["default"]  # type: ignore[index]
        assert default["queued"] >= 1 and default["failed"] == 0  # nobody working yet
        assert status["pending_background_work"] >= default["queued"]
        assert status["failed_background_work"] == 0
        plain = inst.run("status").stdout
        assert "queue default" in plain


def test_the_scheduler_hands_its_jobs_to_rq(tmp_path, redis_url):  # noqa: F811
    from beatdesk.core.scheduler import JOBS

    with installation(tmp_path) as inst:
        inst.env.update(BEATDESK_TASKS="rq", REDIS_URL=redis_url)
        inst.migrate()
        said = inst.run("scheduler", "--once").stdout
        assert "holds the lock" in said
        assert inst.status()["queues"]["default"]["queued"] == len(JOBS)  # type: ignore[index]
        inst.run("scheduler", "--once")  # none handed over twice while queued
        assert inst.status()["queues"]["default"]["queued"] == len(JOBS)  # type: ignore[index]
