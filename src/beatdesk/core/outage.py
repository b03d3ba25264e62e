"""Waiting out a database outage: the ingestion path's commands keep their place and go on
once PostgreSQL is back, instead of exiting with a traceback and leaving the rest undone.

Only a lost connection is waited out (OperationalError, InterfaceError). Anything else, a
constraint or a bad row, is the caller's to handle.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, InterfaceError, OperationalError, connections

logger = logging.getLogger("beatdesk.outage")

T = TypeVar("T")
LONGEST_WAIT = 30.0


_NOT_MIGRATED = re.compile(r"no such (table|column)|(relation|column) .* does not exist")


def not_migrated(exc: BaseException) -> bool:
    """The database answers but lacks the tables: `beatdesk migrate` was not run (SQLite
    says so with an OperationalError, PostgreSQL with a ProgrammingError)."""
    return isinstance(exc, DatabaseError) and bool(_NOT_MIGRATED.search(str(exc)))


def unreachable(exc: BaseException) -> bool:
    """The connection to the database is refused, cut or gone."""
    return isinstance(exc, (OperationalError, InterfaceError)) and not not_migrated(exc)


def first_line(exc: BaseException) -> str:
    said = str(exc).strip()
    return said.splitlines()[0] if said else type(exc).__name__


def close_connections() -> None:
    """Drop every connection this process holds, so the next query opens a fresh one."""
    for connection in connections.all(initialized_only=True):
        with contextlib.suppress(Exception):
            connection.close()


def patiently(
    work: Callable[[], T],
    what: str,
    *,
    longest_wait: float = LONGEST_WAIT,
    sleep: Callable[[float], None] = time.sleep,
    said: Callable[[str], None] | None = None,
) -> T:
    """`work()`, run again after 1 s, 2 s, 4 s … (at most `longest_wait`) for as long as the
    database cannot be reached. `work` must be safe to run again: it may have committed
    part of its work before the connection was cut. `said` hears each wait (a command
    shows it to its user); the log always does."""
    wait = 1.0
    while True:
        try:
            return work()
        except (OperationalError, InterfaceError) as exc:
            if not unreachable(exc):
                raise
            message = (
                f"database unreachable while {what} ({first_line(exc)}); trying again in {wait:g} s"
            )
            logger.warning(message)
            if said is not None:
                said(message)
            close_connections()
            sleep(wait)
            wait = min(wait * 2, longest_wait)
