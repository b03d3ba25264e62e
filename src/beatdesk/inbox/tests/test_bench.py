"""`beatdesk bench ingest`: the real command in a throw-away home of its own, or on the current
home's database, in one process and in worker processes sharing the batches. Timings are
printed, never asserted."""

from __future__ import annotations

import json
import shutil
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
                "--workers", workers, "--no-progress", "--use-current-home",
            ).stdout  # fmt: skip
            figures = json.loads(out.strip().splitlines()[-1])
            assert figures["workers"] == int(workers)
            assert figures["stored"] == figures["routed"] == 60
            assert figures["msgs_per_s"] > 0
            assert figures["p50_ms"] <= figures["p99_ms"]
            assert set(figures["stage_s"]) == {"store_dedupe_s", "triage_route_s"}
        after = inst.status()
        assert after["messages"] - before["messages"] == 120


def test_bench_on_a_fresh_home_makes_a_throwaway_home_of_its_own(tmp_path: Path) -> None:
    home = tmp_path / "fresh"  # never migrated: no database at all
    with installation(home) as inst:
        inst.env.pop("DATABASE_URL", None)
        result = inst.run("bench", "ingest", "--messages", "30", "--batch", "10", "--no-progress")
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        assert figures["database"] == "sqlite"
        assert figures["stored"] == figures["routed"] == 30
        bench_home = Path(figures["home"])
        assert f"bench home: {bench_home}" in result.stderr
        assert bench_home != home and (bench_home / "beatdesk.sqlite3").exists()
        assert not (home / "beatdesk.sqlite3").exists()  # the current home is left alone
        assert "Traceback" not in result.stderr
        shutil.rmtree(bench_home)  # kept by the command for the user to look at


def test_bench_on_the_current_home_says_it_must_be_migrated(tmp_path: Path) -> None:
    with installation(tmp_path) as inst:
        result = inst.run("bench", "ingest", "--use-current-home", check=False)
        assert result.returncode != 0
        assert "is not migrated" in result.stderr and "beatdesk migrate" in result.stderr
        assert "Traceback" not in result.stderr


def test_bench_refuses_a_worker_count_below_one(tmp_path: Path) -> None:
    with installation(tmp_path) as inst:
        inst.migrate()
        result = inst.run("bench", "ingest", "--workers", "0", check=False)
        assert result.returncode != 0
        assert "--workers must be at least 1" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_worker_that_fails_is_reported_not_waited_for() -> None:
    """A worker failing before the start (here: its account does not exist in its database)
    stops the run with a BenchError naming it, rather than leaving the parent waiting."""
    from beatdesk.inbox.bench import BenchError, _in_parallel
    from beatdesk.networks.models import NetworkAccount

    missing = NetworkAccount(pk=987_654, kind="replay", handle="nobody")
    with pytest.raises(BenchError, match="failed while loading"):
        _in_parallel(missing, ["{}"] * 4, 2, 2, lambda done: None)


def test_bench_at_a_sustained_rate_prints_a_curve_of_worker_counts(tmp_path: Path) -> None:
    """--workers 1,2 --rate R: real `beatdesk worker` processes route every message; one line
    per count with its receipt-to-routed p50 and p99, then the JSON curve."""
    with installation(tmp_path) as inst:
        inst.migrate()
        inst.run("seed_demo")
        out = inst.run(
            "bench", "ingest", "--messages", "12", "--rate", "6", "--workers", "1,2",
            "--no-progress", "--use-current-home",
        ).stdout.strip().splitlines()  # fmt: skip
        assert out[0].startswith("1 worker(s): ") and "p99" in out[0]
        assert out[1].startswith("2 worker(s): ")
        curve = json.loads(out[-1])["curve"]
        assert [point["workers"] for point in curve] == [1, 2]
        for point in curve:
            assert point["stored"] == point["routed"] == 12
            assert point["p50_ms"] <= point["p99_ms"] <= point["max_ms"]


def test_bench_refuses_a_rate_of_nothing(tmp_path: Path) -> None:
    with installation(tmp_path) as inst:
        inst.migrate()
        result = inst.run("bench", "ingest", "--rate", "0", check=False)
        assert result.returncode != 0 and "--rate must be above 0" in result.stderr
        assert "Traceback" not in result.stderr
