"""Reading a recorded traffic file (JSONL or CSV) into deliveries, in time order.

Each delivery's body is a JSON object: for JSONL the line exactly as it is in the file,
for CSV the row's fields. The files in ../shared/data (PHEME, CrisisLexT26, OLID, …)
have these shapes.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from beatdesk.networks.base import PayloadError, parse_time


class ReplayFileError(ValueError):
    """The file cannot be replayed (missing, wrong format, no text column)."""


@dataclass(frozen=True)
class Recorded:
    line: int
    body: str
    created_at: dt.datetime | None


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
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                body = line.rstrip("\n")
                if not body.strip():
                    continue
                try:
                    data = json.loads(body)
                except json.JSONDecodeError:
                    # Kept as it is: ingestion stores it as a dead letter, never drops it.
                    records.append(Recorded(number, body, None))
                    continue
                created = _created_at(data) if isinstance(data, dict) else None
                records.append(Recorded(number, body, created))
    elif suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "text" not in reader.fieldnames:
                raise ReplayFileError(f"{path}: a CSV file needs a 'text' column")
            for number, row in enumerate(reader, start=2):
                data = {k: v for k, v in row.items() if k is not None}
                records.append(
                    Recorded(number, json.dumps(data, ensure_ascii=False), _created_at(data))
                )
    else:
        raise ReplayFileError(f"{path}: replay reads .jsonl or .csv files, not {suffix or 'this'}")
    if all(r.created_at is not None for r in records):
        records.sort(key=lambda r: (r.created_at, r.line))
    return records


def iter_schedule(records: list[Recorded], speed: float | None) -> Iterator[tuple[float, Recorded]]:
    """(seconds after the start at which to deliver, record). speed None = as fast as possible."""
    first = next((r.created_at for r in records if r.created_at is not None), None)
    for record in records:
        if speed is None or first is None or record.created_at is None:
            yield 0.0, record
        else:
            yield (record.created_at - first).total_seconds() / speed, record
