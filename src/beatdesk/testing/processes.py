"""Running the real `beatdesk` command in child processes, each test with its own database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dj_database_url


class Installation:
    """A home folder and a database of its own, driven through the command line."""

    def __init__(self, home: Path, database_url: str | None) -> None:
        self.home = home
        self.env = {
            **os.environ,
            "BEATDESK_HOME": str(home),
            "PYTHONUNBUFFERED": "1",
            "BEATDESK_LOGIN_FAILURE_LIMIT": "50",
        }
        self.env.pop("DATABASE_URL", None)
        if database_url:
            self.env["DATABASE_URL"] = database_url

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "beatdesk", *args]

    def run(
        self, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.command(*args), env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            said = f"{result.stdout}\n{result.stderr}"
            raise AssertionError(f"beatdesk {' '.join(args)} exited {result.returncode}:\n{said}")
        return result

    def start(self, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            **kwargs,
        )

    def status(self) -> dict[str, int]:
        data: dict[str, int] = json.loads(
            self.run("status", "--json").stdout.strip().splitlines()[-1]
        )
        return data

    @property
    def sqlite_path(self) -> Path:
        return self.home / "beatdesk.sqlite3"


@contextmanager
def installation(tmp_path: Path) -> Iterator[Installation]:
    """On PostgreSQL (DATABASE_URL set) a fresh database on the same server, dropped after."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        yield Installation(tmp_path, None)
        return
    import psycopg

    cfg = dj_database_url.parse(base)
    name = f"beatdesk_e2e_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(
        host=cfg["HOST"],
        port=cfg["PORT"] or 5432,
        user=cfg["USER"],
        password=cfg["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Installation(tmp_path, base.rsplit("/", 1)[0] + "/" + name)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
