"""Fixtures for `make interop`: the real software, started here on loopback.

* `devnet`: the official Bluesky development network (@atproto/dev-env, pinned in
  interop/bluesky/package-lock.json): a PLC directory, a PDS and the AppView, on the
  PostgreSQL in DATABASE_URL and a Redis started here.
* `dovecot`: Debian's Dovecot as an unprivileged IMAP server on a loopback port, with a
  configuration file written here (no system service), and aiosmtpd for SMTP.

Outside `make interop` (BEATDESK_INTEROP unset) a missing piece skips the tests; under it,
a missing piece fails them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLUESKY_HARNESS = ROOT / "interop" / "bluesky"
START_TIMEOUT_S = 240.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.interop)


def missing(reason: str) -> None:
    if os.environ.get("BEATDESK_INTEROP"):
        pytest.fail(f"{reason} (make interop installs and starts everything it needs)")
    pytest.skip(f"{reason}: run `make interop`")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[Any], what: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"{what} did not listen on {port}")


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def interop_redis() -> Iterator[str]:
    server = shutil.which("redis-server")
    if not server:
        missing("redis-server is not installed")
    assert server
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, process, "redis-server")
    yield f"127.0.0.1:{port}"
    stop(process)


@pytest.fixture(scope="session")
def devnet(
    interop_redis: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The running development network: {"pds", "appview", "accounts": {name: {...}}}."""
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        missing("the Bluesky development network needs PostgreSQL (DATABASE_URL)")
    node = shutil.which("node")
    if not node or not (BLUESKY_HARNESS / "node_modules" / "@atproto" / "dev-env").is_dir():
        missing("@atproto/dev-env is not installed in interop/bluesky (npm ci)")
    assert node
    log = open(tmp_path_factory.mktemp("devnet") / "devnet.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [node, "network.js"],
        cwd=BLUESKY_HARNESS,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={
            **os.environ,
            "DB_POSTGRES_URL": database_url,
            "REDIS_HOST": interop_redis,
            "LOG_ENABLED": "false",
        },
    )
    ready: list[str] = []
    reader = threading.Thread(target=lambda: ready.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(START_TIMEOUT_S)
    if not ready or not ready[0].strip():
        stop(process)
        log.close()
        pytest.fail(
            "the Bluesky development network did not start: "
            + Path(log.name).read_text(errors="replace")[-2000:]
        )
    yield json.loads(ready[0])
    assert process.stdin is not None
    process.stdin.close()
    stop(process)
    log.close()
