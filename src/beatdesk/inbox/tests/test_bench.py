"""`beatdesk bench ingest`: the real command on a database of its own, in one process and in
worker processes sharing the batches. Timings are printed, never asserted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from beatdesk.testing.processes import installation

pytestmark = pytest.mark.slow


def test_bench_stores_triages_and_routes_every_message_with_one_or_two_workers(
    tmp_path: Path,
) -> None:
    with installation(tmp_path) as inst:
        inst.migrate()
        inst.run("seed_demo")
        before = inst.status()
        for workers in ("1", "2"):
            out = inst.run(
                "bench", "ingest", "--messages", "60", "--batch", "20",
                "--workers", workers, "--no-progress",
            ).stdout  # fmt: skip
            figures = json.loads(out.strip().splitlines()[-1])
            assert figures["workers"] == int(workers)
            assert figures["stored"] == figures["routed"] == 60
            assert figures["msgs_per_s"] > 0
            assert figures["p50_ms"] <= figures["p99_ms"]
            assert set(figures["stage_s"]) == {"store_dedupe_s", "triage_route_s"}
        after = inst.status()
        assert after["messages"] - before["messages"] == 120


def test_bench_refuses_a_worker_count_below_one(tmp_path: Path) -> None:
    with installation(tmp_path) as inst:
        inst.migrate()
        result = inst.run("bench", "ingest", "--workers", "0", check=False)
        assert result.returncode != 0
        assert "--workers must be at least 1" in result.stderr
        assert "Traceback" not in result.stderr
