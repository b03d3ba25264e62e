"""`beatdesk replay`: files as live traffic, idempotent, also from two processes at once."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from beatdesk.networks.replay.client import ReplayFileError, iter_schedule, read_file
from beatdesk.testing.processes import installation


def write_jsonl(path: Path, n: int, start_id: int = 0) -> Path:
    with path.open("w") as fh:
        for i in range(start_id, start_id + n):
            fh.write(
                json.dumps(
                    {
                        "id": f"r-{i}",
                        "created_at": f"2026-03-14T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
                        "text": f"recorded post number {i}",
                        "network": "mastodon",
                    }
                )
                + "\n"
            )
    return path


def test_records_are_read_in_time_order_with_their_bodies_verbatim(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_text(
        '{"id": "b", "created_at": "Wed Jan 07 11:07:51 +0000 2015", "text": "second"}\n'
        "\n"
        '{"id": "a", "created_at": "2015-01-07T11:06:08Z", "text": "first"}\n'
    )
    records = read_file(path)
    assert [json.loads(r.body)["id"] for r in records] == ["a", "b"]
    assert (
        records[1].body
        == '{"id": "b", "created_at": "Wed Jan 07 11:07:51 +0000 2015", "text": "second"}'
    )
    schedule = list(iter_schedule(records, speed=10))
    assert [round(offset, 1) for offset, _ in schedule] == [0.0, 10.3]
    assert [offset for offset, _ in iter_schedule(records, speed=None)] == [0.0, 0.0]


def test_csv_files_need_a_text_column(tmp_path):
    good = tmp_path / "good.csv"
    with good.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text", "author"])
        writer.writerow(["1", "hello, desk", "sam"])
    assert json.loads(read_file(good)[0].body) == {
        "id": "1",
        "text": "hello, desk",
        "author": "sam",
    }
    bad = tmp_path / "bad.csv"
    bad.write_text("id,body\n1,hi\n")
    with pytest.raises(ReplayFileError, match="'text' column"):
        read_file(bad)


@pytest.fixture
def seeded(tmp_path):
    """A real installation (own database, PostgreSQL when DATABASE_URL is set), seeded."""
    with installation(tmp_path) as inst:
        inst.migrate()
        inst.run("seed_demo")
        yield inst


@pytest.mark.slow
def test_replay_command_stores_once_and_reports(seeded, tmp_path):
    inst = seeded
    path = write_jsonl(tmp_path / "posts.jsonl", 40)
    first = inst.run("replay", str(path), "--fast")
    assert "40 stored" in first.stdout
    again = inst.run("replay", str(path), "--fast", "--no-progress")
    assert "40 duplicate" in again.stdout
    status = inst.status()
    # --fast hands messages on in batches: one background task for these 40.
    assert status["messages"] == 40 and status["pending_background_work"] == 1
    assert status["unrouted_messages"] == 40
    # That task routes them all; it may hand the stronger abuse model a second, smaller one.
    inst.run("worker", "--max-tasks", "1", "--batch", "--no-startup-delay", "--interval", "0.05")
    status = inst.status()
    assert status["unrouted_messages"] == 0 and status["pending_background_work"] <= 1
    inst.run("worker", "--batch", "--no-startup-delay", "--interval", "0.05")
    assert inst.status()["pending_background_work"] == 0
    inst.run("audit", "verify")


@pytest.mark.slow
def test_two_processes_delivering_the_same_posts_at_once_store_each_once(seeded, tmp_path):
    inst = seeded
    path = write_jsonl(tmp_path / "posts.jsonl", 150)
    procs = [inst.start("replay", str(path), "--fast", "--no-progress") for _ in range(2)]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    status = inst.status()
    assert status["messages"] == 150
    stored = sum(
        int(out.split(" stored")[0].rsplit(" ", 1)[-1]) for out in outputs if " stored" in out
    )
    assert stored == 150, outputs
    inst.run("audit", "verify")


@pytest.mark.slow
def test_replay_errors_are_clear_messages_not_tracebacks(tmp_path):
    with installation(tmp_path) as inst:
        inst.migrate()
        no_force = inst.run("replay", str(write_jsonl(tmp_path / "p.jsonl", 1)), check=False)
        assert no_force.returncode != 0 and "seed_demo" in no_force.stderr
        inst.run("seed_demo")
        missing = inst.run("replay", str(tmp_path / "nope.jsonl"), check=False)
        assert missing.returncode != 0
        assert "no such file" in missing.stderr and "Traceback" not in missing.stderr
        wrong = tmp_path / "posts.txt"
        wrong.write_text("hello")
        result = inst.run("replay", str(wrong), check=False)
        assert ".jsonl or .csv" in result.stderr and "Traceback" not in result.stderr
        speed = inst.run(
            "replay", str(write_jsonl(tmp_path / "p.jsonl", 1)), "--speed", "0", check=False
        )
        assert "--speed must be greater than 0" in speed.stderr
