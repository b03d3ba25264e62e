"""Running the real `beatdesk` command in child processes, each test with its own database."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dj_database_url


class Installation:
    """A home folder and a database of its own, driven through the command line."""

    def __init__(
        self, home: Path, database_url: str | None, admin: Any = None, name: str = ""
    ) -> None:
        self.home = home
        self._admin, self._name = admin, name  # PostgreSQL: the server and this database
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

    def migrate(self) -> None:
        """What `beatdesk migrate` leaves, copied from a database that the real command
        migrated once for this test run: one migration run per test process, not per test."""
        if self._admin is None:
            self.home.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_sqlite_template(), self.sqlite_path)
            return
        template = _postgres_template(self._admin, self.env["DATABASE_URL"])
        self._admin.execute(f'DROP DATABASE "{self._name}"')
        self._admin.execute(f'CREATE DATABASE "{self._name}" TEMPLATE "{template}"')

    def status(self) -> dict[str, int]:
        data: dict[str, int] = json.loads(
            self.run("status", "--json").stdout.strip().splitlines()[-1]
        )
        return data

    @property
    def sqlite_path(self) -> Path:
        return self.home / "beatdesk.sqlite3"


_templates: dict[str, Any] = {}


def _admin(database_url: str) -> Any:
    """A connection to the server's maintenance database, for creating and dropping others."""
    import psycopg

    cfg = dj_database_url.parse(database_url)
    return psycopg.connect(
        host=cfg["HOST"],
        port=cfg["PORT"] or 5432,
        user=cfg["USER"],
        password=cfg["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


def _drop(database_url: str, name: str) -> None:
    with _admin(database_url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrated(home: Path, database_url: str | None) -> None:
    Installation(home, database_url).run("migrate", "-v0")


def _sqlite_template() -> Path:
    if "sqlite" not in _templates:
        home = Path(tempfile.mkdtemp(prefix="beatdesk-migrated-"))
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        _migrated(home, None)
        _templates["sqlite"] = home / "beatdesk.sqlite3"
    path: Path = _templates["sqlite"]
    return path


def _postgres_template(admin: Any, database_url: str) -> str:
    if "postgres" not in _templates:
        name = f"beatdesk_migrated_{uuid.uuid4().hex[:10]}"
        admin.execute(f'CREATE DATABASE "{name}"')
        home = Path(tempfile.mkdtemp(prefix="beatdesk-migrated-"))
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        _migrated(home, database_url.rsplit("/", 1)[0] + "/" + name)
        _templates["postgres"] = name
        atexit.register(_drop, database_url, name)
    template: str = _templates["postgres"]
    return template


@contextmanager
def installation(tmp_path: Path) -> Iterator[Installation]:
    """On PostgreSQL (DATABASE_URL set) a fresh database on the same server, dropped after."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        yield Installation(tmp_path, None)
        return
    name = f"beatdesk_e2e_{uuid.uuid4().hex[:10]}"
    admin = _admin(base)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Installation(tmp_path, base.rsplit("/", 1)[0] + "/" + name, admin, name)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
