"""Where an installation keeps its files: the SQLite database, keys and audit checkpoints.

Keys live here, outside the database, so that a copy of the database alone reveals no
credentials and cannot forge an audit checkpoint. A force's security team may keep them
outside the home as well: each key can be given in an environment variable (NAME) or as a
file path (NAME_FILE, e.g. a secrets mount); see given_secret.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def home() -> Path:
    path = Path(os.environ.get("BEATDESK_HOME") or Path.cwd() / "var").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


class SecretMissing(ImproperlyConfigured):
    """A key named by NAME_FILE that cannot be read."""


def given_secret(name: str) -> str | None:
    """The secret in env NAME, else the content of the file env NAME_FILE names, else None
    (the caller falls back to its file under the home)."""
    value = os.environ.get(name)
    if value:
        return value
    named = os.environ.get(f"{name}_FILE")
    if not named:
        return None
    try:
        content = Path(named).read_text().strip()
    except OSError as exc:
        raise SecretMissing(
            f"{name}_FILE names {named}, which cannot be read ({exc.strerror or exc})"
        ) from exc
    if not content:
        raise SecretMissing(f"{name}_FILE names {named}, which is empty")
    return content


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
