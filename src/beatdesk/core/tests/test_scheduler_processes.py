"""Two `beatdesk scheduler` processes against one database: one holds the lock and hands the
periodic jobs to a real `beatdesk worker`, the other stands by; killed with SIGKILL, the
holder is replaced by the standby within the lease time. No job is handed over while its
last run is still queued or running.

Run on SQLite by default and on PostgreSQL under scripts/with-postgres.sh (DATABASE_URL)."""

from __future__ import annotations

import time

import pytest

from beatdesk.core.tests.test_sweep_processes import kill_hard, query, running, scalar, wait_for
from beatdesk.testing.processes import installation

pytestmark = pytest.mark.slow

FAST = {
    "BEATDESK_TASKS": "database",
    "BEATDESK_SCHEDULER_LEASE_SECONDS": "3",
    "BEATDESK_SCHEDULER_RENEW_SECONDS": "1",
    "BEATDESK_EVERY_AUDIT_CHECKPOINT_SECONDS": "1",
    "BEATDESK_EVERY_WAKE_SNOOZED_SECONDS": "1",
}


def holder(inst) -> str:
    rows = query(inst, "SELECT holder FROM core_schedulerlease")
    return str(rows[0][0]) if rows else ""


def line_with(process, text: str, timeout: float = 30) -> str:
    """Read the process's output until a line containing text."""
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if text in line:
            return line
        assert line or process.poll() is None, f"the process stopped before saying {text!r}"
    raise AssertionError(f"never said {text!r}")


def test_one_scheduler_runs_the_jobs_and_the_standby_takes_over(tmp_path):
    with installation(tmp_path) as inst:
        inst.env.update(FAST)
        inst.migrate()
        inst.run("seed_demo")
        with (
            running(inst, "scheduler") as first,
            running(inst, "worker", "--interval", "0.1") as worker,
        ):
            line_with(first, "holds the lock")
            with running(inst, "scheduler") as second:
                line_with(second, "stands by")
                wait_for(
                    "checkpoints run by the worker",
                    lambda: (
                        scalar(
                            inst,
                            "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE"
                            " status = 'SUCCESSFUL'"
                            " AND CAST(args_kwargs AS TEXT) LIKE '%audit_checkpoint%'",
                        )
                        >= 2
                    ),
                    30,
                    [first, second, worker],
                )
                # Never two runs of one job queued or running at once.
                assert (
                    scalar(
                        inst,
                        "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE"
                        " status IN ('READY', 'RUNNING')"
                        " AND CAST(args_kwargs AS TEXT) LIKE '%wake_snoozed%'",
                    )
                    <= 1
                )
                was = holder(inst)
                assert was
                kill_hard(first)
                killed_at = time.monotonic()
                line_with(second, "holds the lock", timeout=15)
                assert time.monotonic() - killed_at < 3 + 2 + 2  # lease + a renewal + slack
                assert holder(inst) != was
                handed = scalar(inst, "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult")
                wait_for(
                    "the new holder to hand out jobs",
                    lambda: (
                        scalar(inst, "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult")
                        > handed
                    ),
                    15,
                    [second, worker],
                )
        inst.run("audit", "verify")  # the checkpoints the workers signed verify


def test_poll_runs_the_same_jobs_inline(tmp_path):
    with installation(tmp_path) as inst:
        inst.env.update(FAST)
        inst.migrate()
        inst.run("seed_demo")
        inst.run("poll", "--once", "-v2")
        names = {row[0] for row in query(inst, "SELECT name FROM core_periodicrun")}
        from beatdesk.operations.scheduler import JOBS

        assert names == set(JOBS)
        assert scalar(inst, "SELECT COUNT(*) FROM core_periodicrun WHERE error <> ''") == 0
