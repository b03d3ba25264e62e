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


class KeyConfigError(Exception):
    """A key named by the environment cannot be read (the named file is missing or empty)."""


def configured_key(env: str) -> str | None:
    """A key given outside the home: env (the value) or env_FILE (a path to read it from).

    A force's security team may keep keys in a secrets manager or on another volume.
    Returns None when neither is set, so the caller falls back to the file under the home.
    A named file that is missing or empty is an error, never a silent fallback.
    """
    value = os.environ.get(env)
    if value:
        return value.strip()
    file_name = os.environ.get(f"{env}_FILE")
    if not file_name:
        return None
    path = Path(file_name)
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise KeyConfigError(
            f"{env}_FILE names {path}, which cannot be read: {exc.strerror}"
        ) from exc
    if not text:
        raise KeyConfigError(f"{env}_FILE names {path}, which is empty")
    return text
