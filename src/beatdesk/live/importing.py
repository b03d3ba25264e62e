"""Reading an incident log (CSV) for a live event; the format is in INCIDENT_LOG.md."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Iterable

from beatdesk.live.entries import FIELDS, EntryError, EntryIn, read_entry
from beatdesk.live.models import LiveEvent

MAX_PROBLEMS = 20


class LogError(ValueError):
    """The log cannot be imported; `problems` names each bad row and column."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        super().__init__("\n".join(shown) + (f"\n… and {more} more problem(s)" if more > 0 else ""))
        self.problems = problems


def _reference(record: dict[str, str], seen: Counter[str]) -> str:
    """A row without a reference is known by its content; the same row twice in one log is
    two incidents, told apart by how many times it came before."""
    if record.get("reference", "").strip():
        return record["reference"].strip()
    content = "\x1f".join(" ".join(record.get(f, "").split()).lower() for f in FIELDS)
    digest = hashlib.sha256(content.encode()).hexdigest()[:40]
    seen[digest] += 1
    return f"row:{digest}:{seen[digest]}"


def _not_utf8(exc: UnicodeDecodeError) -> str:
    return f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})"


def read_log(lines: Iterable[str], event: LiveEvent) -> list[EntryIn]:
    """Every row of the log, checked; LogError names all the bad rows, and nothing is taken
    unless every row is good."""
    reader = csv.DictReader(lines)
    try:
        fieldnames = reader.fieldnames or []
    except UnicodeDecodeError as exc:  # the file is read, and decoded, from its first line
        raise LogError([_not_utf8(exc)]) from exc
    except csv.Error as exc:
        raise LogError([f"line 1 (the header): not readable as CSV ({exc})"]) from exc
    header = [(name or "").strip().lower() for name in fieldnames]
    missing = [f for f in FIELDS if f not in header]
    if missing:
        raise LogError(
            [
                f"line 1 (the header): missing column(s) {', '.join(missing)}; the header must "
                f"name {', '.join(FIELDS)} (in any order)"
            ]
        )
    reader.fieldnames = header
    entries: list[EntryIn] = []
    problems: list[str] = []
    seen: Counter[str] = Counter()
    try:
        for row_number, row in enumerate(reader, start=1):
            if None in row:
                problems.append(
                    f"line {reader.line_num} (row {row_number}): more values than the header "
                    "has columns (a comma in a field needs the field in double quotes)"
                )
                continue
            record = {k: (v or "") for k, v in row.items() if k}
            if not any(v.strip() for v in record.values()):
                continue  # a blank line
            where = f"line {reader.line_num} (row {row_number})"
            try:
                entries.append(read_entry(record, event, where, _reference(record, seen)))
            except EntryError as exc:
                problems.append(str(exc).replace(", field ", ", column "))
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: not readable as CSV ({exc})")
    except UnicodeDecodeError as exc:
        problems.append(_not_utf8(exc))
    if problems:
        raise LogError(problems)
    return entries
