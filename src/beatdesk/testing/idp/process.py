"""Starting the loopback OpenID provider (python -m beatdesk.testing.idp) for a test."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beatdesk.testing.services import _accepts, _wait_until, free_port


@dataclass(frozen=True)
class Provider:
    url: str
    home: Path

    @property
    def issuer(self) -> str:
        return f"{self.url}/openid"

    def disable(self, username: str) -> None:
        """Disable a user as the provider's administrator would: they can no longer sign in
        there, and their session there ends."""
        with sqlite3.connect(self.home / "idp.sqlite3") as db:
            db.execute("UPDATE auth_user SET is_active = 0 WHERE username = ?", [username])


@contextmanager
def identity_provider(
    home: Path, client: dict[str, str], users: list[dict[str, Any]]
) -> Iterator[Provider]:
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = home / "config.json"
    config.write_text(
        json.dumps({"port": port, "home": str(home), "client": client, "users": users})
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    log = (home / "idp.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "beatdesk.testing.idp", str(config)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until(lambda: _accepts(port) or proc.poll() is not None, "the identity provider", 60)
        if proc.poll() is not None:
            raise AssertionError(f"the identity provider exited:\n{(home / 'idp.log').read_text()}")
        yield Provider(url=f"http://127.0.0.1:{port}", home=home)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
