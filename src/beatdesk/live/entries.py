"""From an incident-log line to the numbered, redacted post the live stream publishes.

A line arrives from the imported log (CSV) or from the command-and-control system (HTTP) as
five fields: time, type, location, summary, outcome. It is read and checked here (an error
names the row and the field), redacted (see redaction.py), and written as
"#bsp24 17: 14:32 concern for welfare, Kings Heath — officers found the man safe and took
him home", trimmed to the shortest limit among the event's networks.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from beatdesk.accounts.models import Area
from beatdesk.core.text import storable, unstorable_in
from beatdesk.live.models import LiveEvent
from beatdesk.live.redaction import redact_location, redact_text
from beatdesk.networks.models import NetworkAccount
from beatdesk.publishing.checks import LIMITS, count_characters

FIELDS = ("time", "type", "location", "summary", "outcome")
REQUIRED = ("time", "type")
MAX_LENGTHS = {"type": 200, "location": 300, "summary": 2000, "outcome": 2000, "reference": 200}
LONDON = ZoneInfo("Europe/London")
_CLOCK = re.compile(r"^(?P<h>[01]?\d|2[0-3])[:.](?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?$")


class EntryError(ValueError):
    """A line of the log that cannot be taken: `where` names the row and the field."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


@dataclass(frozen=True)
class EntryIn:
    """One incident-log line, read and checked, not yet numbered."""

    occurred_at: dt.datetime
    type: str
    location: str
    summary: str
    outcome: str
    reference: str
    raw: dict[str, str]


def read_time(value: str, event: LiveEvent) -> dt.datetime:
    """HH:MM (or HH:MM:SS) on the event's day, rolling past midnight in a 24-hour event, or
    an ISO 8601 date and time (UK time when it names no offset)."""
    value = value.strip()
    clock = _CLOCK.match(value)
    if clock is not None:
        start = event.starts_at.astimezone(LONDON)
        moment = start.replace(
            hour=int(clock["h"]), minute=int(clock["m"]), second=int(clock["s"] or 0), microsecond=0
        )
        if moment < start.replace(second=0, microsecond=0):
            moment = (moment + dt.timedelta(days=1)).replace(tzinfo=LONDON)
        return moment.astimezone(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a time: write HH:MM (14:32) or ISO 8601 (2024-11-22T14:32)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LONDON)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(f"{value!r} is outside the calendar") from None


def _raw(record: Mapping[str, object], where: str) -> dict[str, str]:
    """The record as it came, each value as text (JSON for a list or an object); refused
    when a database cannot keep it (a NUL, half an emoji, nesting past reading)."""
    raw: dict[str, str] = {}
    for key, value in record.items():
        name = str(key)
        if value is None or isinstance(value, str | int | float | bool):
            text = str(value)
        else:
            try:
                text = json.dumps(value, ensure_ascii=False)
            except (ValueError, TypeError, RecursionError):
                raise EntryError(
                    f"{where}, field {storable(name)[:50]}", "cannot be read"
                ) from None
        problem = unstorable_in(name) or unstorable_in(text)
        if problem:
            raise EntryError(f"{where}, field {storable(name)[:50]}", problem)
        raw[name] = text
    return raw


def read_entry(
    record: Mapping[str, object], event: LiveEvent, where: str, reference: str
) -> EntryIn:
    """Check one record (CSV row or JSON object); raise EntryError naming the field."""
    raw = _raw(record, where)
    values: dict[str, str] = {}
    for field in (*FIELDS, "reference"):
        value = record.get(field)
        if value is None:
            value = ""
        if not isinstance(value, str | int | float):
            raise EntryError(f"{where}, field {field}", "must be text")
        text = " ".join(str(value).split())
        if len(text) > MAX_LENGTHS.get(field, 200):
            raise EntryError(
                f"{where}, field {field}", f"longer than {MAX_LENGTHS.get(field, 200)} characters"
            )
        values[field] = text
    for field in REQUIRED:
        if not values[field]:
            raise EntryError(f"{where}, field {field}", "is empty")
    try:
        occurred_at = read_time(values["time"], event)
    except (ValueError, OverflowError) as exc:
        raise EntryError(f"{where}, field time", str(exc)) from None
    early, late = event.starts_at - dt.timedelta(hours=1), event.ends_at + dt.timedelta(hours=1)
    if not early <= occurred_at <= late:
        shown = occurred_at.astimezone(LONDON)
        raise EntryError(
            f"{where}, field time",
            f"{shown:%d %b %H:%M} is outside the event "
            f"({event.starts_at.astimezone(LONDON):%d %b %H:%M} to "
            f"{event.ends_at.astimezone(LONDON):%d %b %H:%M})",
        )
    return EntryIn(
        occurred_at=occurred_at,
        type=values["type"],
        location=values["location"],
        summary=values["summary"],
        outcome=values["outcome"],
        reference=reference or values["reference"],
        raw=raw,
    )


def _sentence_case(text: str) -> str:
    """'Concern for welfare' -> 'concern for welfare'; 'RTC' and 'ASB' stay as they are."""
    capitalised = len(text) > 1 and text[0].isupper() and text[1].islower()
    if capitalised or text.startswith(("A ", "An ")):
        return text[0].lower() + text[1:]
    return text


def _fits(text: str, kinds: Sequence[str]) -> bool:
    return all(count_characters(text, kind) <= LIMITS.get(kind, 10**6) for kind in kinds)


def _shorten(words: str) -> str:
    cut = words.rsplit(" ", 1)[0] if " " in words else ""
    return cut.rstrip(" ,;:.-—…") + "…" if cut else ""


def compose(
    hashtag: str,
    number: int,
    occurred_at: dt.datetime,
    type_: str,
    location: str,
    summary: str,
    outcome: str,
    kinds: Sequence[str],
) -> str:
    """The post for one entry, from already redacted fields, made to fit every network in
    `kinds`: the summary is shortened first, then the outcome, then the place."""
    head = f"{hashtag} {number}: {occurred_at.astimezone(LONDON):%H:%M} {_sentence_case(type_)}"

    def build() -> str:
        text = head + (f", {location}" if location else "")
        if summary:
            text += f": {_sentence_case(summary)}"
        if outcome:
            text += f" — {_sentence_case(outcome)}"
        return text

    text = build()
    while not _fits(text, kinds):
        if summary:
            summary = _shorten(summary)
        elif outcome:
            outcome = _shorten(outcome)
        elif location:
            location = _shorten(location)
        else:
            break
        text = build()
    return text


@dataclass(frozen=True)
class Redacted:
    type: str
    location: str
    summary: str
    outcome: str


def redact_entry(entry: EntryIn, places: Sequence[str]) -> Redacted:
    return Redacted(
        type=redact_text(entry.type, places),
        location=redact_location(entry.location, places),
        summary=redact_text(entry.summary, places).rstrip(". "),
        outcome=redact_text(entry.outcome, places).rstrip(". "),
    )


def force_places(event: LiveEvent) -> list[str]:
    """The force's neighbourhoods and their place names, which are never people's names."""
    places: set[str] = set()
    for name, names in Area.objects.filter(force_id=event.force_id).values_list(
        "name", "place_names"
    ):
        places.add(name.lower())
        places.update(str(n).lower() for n in names or [])
    return sorted(places)


def network_kinds(accounts: Iterable[NetworkAccount]) -> list[str]:
    return sorted({a.kind for a in accounts})
