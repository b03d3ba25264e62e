"""Where an installation keeps its files: the SQLite database, keys and audit checkpoints.

Keys live here, outside the database, so that a copy of the database alone reveals no
credentials and cannot forge an audit checkpoint.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def home() -> Path:
    path = Path(os.environ.get("BEATDESK_HOME") or Path.cwd() / "var").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_file(name: str, *, generate: bool = True, nbytes: int = 48) -> str:
    """Read a secret kept in a 0600 file under the home, creating it on first use."""
    path = home() / "keys" / name
    if not path.exists():
        if not generate:
            raise FileNotFoundError(path)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()
