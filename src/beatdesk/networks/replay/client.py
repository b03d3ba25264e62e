"""Reading a recorded traffic file (JSONL or CSV) into deliveries, in time order.

Each delivery's body is a JSON object: for JSONL the line exactly as it is in the file,
for CSV the row's fields. The files in ../shared/data (PHEME, CrisisLexT26, OLID, …)
have these shapes.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from beatdesk.core.text import is_storable
from beatdesk.networks.base import PayloadError, parse_time


class ReplayFileError(ValueError):
    """The file cannot be replayed (missing, wrong format, no text column)."""


@dataclass(frozen=True)
class Recorded:
    """One record of the file: its text, and its bytes when they are not UTF-8 (the text
    then shows them as U+FFFD; the bytes are what is delivered and kept)."""

    line: int
    body: str
    created_at: dt.datetime | None
    raw: bytes | None = None

    @property
    def delivery(self) -> str | bytes:
        return self.raw if self.raw is not None else self.body


def _created_at(record: dict[str, object]) -> dt.datetime | None:
    value = record.get("created_at")
    if value in (None, ""):
        return None
    try:
        return parse_time(value)
    except PayloadError:
        return None


def read_file(path: Path) -> list[Recorded]:
    """All records of the file, sorted by created_at where present (file order otherwise)."""
    if not path.exists():
        raise ReplayFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    records: list[Recorded] = []
    if suffix in {".jsonl", ".ndjson", ".json"}:
        with path.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                records.extend(_jsonl_record(number, line))
    elif suffix == ".csv":
        records = _csv_records(path)
    else:
        raise ReplayFileError(f"{path}: replay reads .jsonl or .csv files, not {suffix or 'this'}")
    if all(r.created_at is not None for r in records):
        records.sort(key=lambda r: (r.created_at, r.line))
    return records


def _jsonl_record(number: int, line: bytes) -> list[Recorded]:
    raw = line.rstrip(b"\n")
    if number == 1 and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    if not raw.strip():
        return []
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        # Kept as the bytes it is: ingestion stores it as a dead letter, never drops it.
        return [Recorded(number, raw.decode("utf-8", "replace"), None, raw)]
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return [Recorded(number, body, None)]  # a dead letter too, with the reason
    return [Recorded(number, body, _created_at(data) if isinstance(data, dict) else None)]


def _csv_records(path: Path) -> list[Recorded]:
    records: list[Recorded] = []
    # Bytes that are not UTF-8 are carried through as surrogate escapes, and given back
    # as those bytes: the row is delivered as it stands and kept as a dead letter.
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        reader = csv.DictReader(fh)
        try:
            if not reader.fieldnames or "text" not in reader.fieldnames:
                raise ReplayFileError(f"{path}: a CSV file needs a 'text' column")
            for row in reader:
                data = {k: v for k, v in row.items() if k is not None}
                body = json.dumps(data, ensure_ascii=False)
                raw = None
                if not is_storable(body):
                    raw = body.encode("utf-8", "surrogateescape")
                    body = raw.decode("utf-8", "replace")
                created = _created_at(data) if raw is None else None
                records.append(Recorded(reader.line_num, body, created, raw))
        except csv.Error as exc:
            raise ReplayFileError(
                f"{path}: line {reader.line_num}: not readable as CSV ({exc})"
            ) from exc
    return records


def iter_schedule(records: list[Recorded], speed: float | None) -> Iterator[tuple[float, Recorded]]:
    """(seconds after the start at which to deliver, record). speed None = as fast as possible."""
    first = next((r.created_at for r in records if r.created_at is not None), None)
    for record in records:
        if speed is None or first is None or record.created_at is None:
            yield 0.0, record
        else:
            yield (record.created_at - first).total_seconds() / speed, record
