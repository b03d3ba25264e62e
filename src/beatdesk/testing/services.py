"""PostgreSQL and Redis servers of a test's own, on loopback, that the test may stop, kill
and start again: the fault suite's outages (core/tests/test_faults.py)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PGBIN = Path(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until(ready: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not ready():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not start within {timeout:g} s")
        time.sleep(0.05)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PostgresServer:
    """A PostgreSQL 15 cluster in `root`, as scripts/with-postgres.sh makes one (run as the
    postgres user when the test runs as root, since PostgreSQL refuses root)."""

    def __init__(self) -> None:
        # Not under pytest's tmp_path: the postgres user cannot enter root's folders there.
        self.root, self.port = Path(tempfile.mkdtemp(prefix="beatdesk-pg.")), free_port()
        self.data = self.root / "data"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.root, "postgres")
        self._run(
            PGBIN / "initdb",
            "-D",
            self.data,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )

    def _run(self, *argv: object) -> None:
        done = subprocess.run(
            [*self._as, *map(str, argv)], capture_output=True, text=True, cwd=self.root
        )
        if done.returncode:
            raise AssertionError(f"{argv[0]} exited {done.returncode}: {done.stderr}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c max_connections=200"
        self._run(
            PGBIN / "pg_ctl", "-D", self.data, "-l", self.root / "server.log", "-w", "-o", options,
            "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """`mode="immediate"` is a crash as far as the clients know: every connection is
        cut and the next start runs crash recovery from the write-ahead log."""
        self._run(PGBIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return self.url(name)

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [*self._as, str(PGBIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                capture_output=True,
            )
        shutil.rmtree(self.root, ignore_errors=True)


class RedisServer:
    """A Redis on loopback with no persistence: a restart loses every queued job, as a
    crashed Redis without AOF does."""

    def __init__(self, root: Path) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise AssertionError(
                "redis-server is missing: `make test` installs it (scripts/system-deps.sh)"
            )
        self.root, self.port, self._server = root, free_port(), server
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._process = subprocess.Popen(
            [self._server, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            cwd=self.root,
            stdout=subprocess.DEVNULL,
        )
        _wait_until(lambda: _accepts(self.port), "redis-server")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()
