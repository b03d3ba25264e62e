"""One place to ask the time, so tests can move it and storage is always UTC."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

UTC = dt.UTC


def now() -> dt.datetime:
    return timezone.now()


def utc_iso(value: dt.datetime) -> str:
    """A stable ISO 8601 form in UTC with microseconds, used inside hashes."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")
