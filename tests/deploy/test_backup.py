"""The documented backup, restored for real: deploy/backup.sh (pg_dump -Fc and the key and
audit files), pg_restore into a new database, a new home from the files, and the desk there
verifies its audit chain and counts the same as the one backed up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from beatdesk.testing.processes import Installation, installation

REPO = Path(__file__).resolve().parents[2]
PGBIN = Path(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="the backup is of a PostgreSQL database",
    ),
]


def verify(inst: Installation) -> dict[str, object]:
    result = inst.run("audit", "verify", "--json")
    report: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def counts(status: dict[str, int]) -> dict[str, int]:
    """The status's counts, without the ages (seconds since, which go on growing)."""
    return {key: value for key, value in status.items() if not key.endswith("_s")}


def test_a_backup_restored_into_a_new_database_verifies_and_counts_the_same(tmp_path: Path):
    with installation(tmp_path / "home") as inst:
        inst.migrate()
        inst.run("seed_demo")
        feed = tmp_path / "feed.jsonl"
        feed.write_text(
            "".join(
                json.dumps({"id": f"b{n}", "text": f"Bike stolen from the station {n}"}) + "\n"
                for n in range(5)
            )
        )
        inst.run("replay", str(feed), "--fast")
        backups = tmp_path / "backups"
        env = {
            **inst.env,
            "BEATDESK": str(Path(sys.executable).parent / "beatdesk"),
            "PG_DUMP": str(PGBIN / "pg_dump"),
        }
        made = subprocess.run(
            [REPO / "deploy" / "backup.sh", backups],
            env=env, capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        dump, files = (Path(line) for line in made.stdout.strip().splitlines()[-2:])
        before = inst.status()
        assert before["messages"] == 5 and before["audit_events"] > 0

        # Restore: a new, empty database; pg_restore; a new home from the files.
        restored_db = f"{inst._name}_restored"
        inst._admin.execute(f'CREATE DATABASE "{restored_db}"')
        try:
            restored_url = inst.env["DATABASE_URL"].rsplit("/", 1)[0] + "/" + restored_db
            subprocess.run(
                [PGBIN / "pg_restore", "--no-owner", "--exit-on-error", "-d", restored_url, dump],
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
            restored_home = tmp_path / "restored-home"
            restored_home.mkdir()
            with tarfile.open(files) as tar:
                tar.extractall(restored_home, filter="data")
            restored = Installation(restored_home, restored_url)
            # The secret keys of the environment file come back with it (here: the home's).
            report = verify(restored)
            assert report["ok"] is True and report["unsealed"] == 0
            assert report["checkpoints"] >= 1 and report["checked"] == before["audit_events"]
            assert counts(restored.status()) == counts(before)

        finally:
            inst._admin.execute(f'DROP DATABASE IF EXISTS "{restored_db}" WITH (FORCE)')
