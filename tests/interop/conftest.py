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
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from beatdesk.testing.mailservers import smtp_server  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parents[2]
BLUESKY_HARNESS = ROOT / "interop" / "bluesky"
START_TIMEOUT_S = 240.0


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


DOVECOT_USER = "desk@westmere-police.example"
DOVECOT_PASSWORD = "dovecot-pa55-not-for-logs"  # noqa: S105 - a throw-away server's login
DOVECOT_CONF = """\
# Written by tests/interop: one unprivileged Dovecot on loopback, no system service.
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
# The unprivileged user is a system account (a low uid): let it own the mail.
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{dir}/mail/%n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={dir}/home/%n
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    user = {user}
  }}
  unix_listener stats-writer {{
    user = {user}
  }}
}}
"""


class Dovecot:
    """A Dovecot IMAP server of our own, run as an unprivileged user."""

    def __init__(self, directory: Path, port: int, run_as: list[str]) -> None:
        self.directory = directory
        self.port = port
        self.run_as = run_as
        self.conf = directory / "dovecot.conf"

    def deliver(self, raw: bytes) -> None:
        """Deliver a message as a mail server does: Dovecot's own LDA, into the Maildir."""
        subprocess.run(
            [
                *self.run_as,
                "/usr/lib/dovecot/dovecot-lda",
                "-c",
                str(self.conf),
                "-d",
                DOVECOT_USER,
            ],
            input=raw,
            check=True,
            timeout=30,
        )


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not Path(binary).exists():
        missing("Dovecot is not installed (dovecot-imapd)")
    # Its own folder under the system's temporary directory, which the unprivileged user
    # can reach (pytest's own temporary folders are private to the user running pytest).
    directory = Path(tempfile.mkdtemp(prefix="beatdesk-dovecot-"))
    run_as: list[str] = []
    user = group = ""
    if os.geteuid() == 0:
        # Dovecot's own unprivileged account (made by the package), never root.
        user = group = "dovecot"
        run_as = ["runuser", "-u", user, "--"]
    else:
        import grp
        import pwd

        user = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
    port = free_port()
    for sub in ("run", "state", "mail", "home"):
        (directory / sub).mkdir()
    (directory / "users").write_text(f"{DOVECOT_USER}:{{PLAIN}}{DOVECOT_PASSWORD}\n")
    server = Dovecot(directory, port, run_as)
    server.conf.write_text(DOVECOT_CONF.format(dir=directory, user=user, group=group, port=port))
    if run_as:
        shutil.chown(directory, user, group)
        for path in directory.rglob("*"):
            shutil.chown(path, user, group)
    process = subprocess.Popen(
        [*run_as, binary, "-F", "-c", str(server.conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, process, "dovecot")
    except BaseException:
        log = directory / "dovecot.log"
        print(log.read_text() if log.exists() else process.stderr.read().decode())  # type: ignore[union-attr]
        raise
    yield server
    stop(process)
    shutil.rmtree(directory, ignore_errors=True)
