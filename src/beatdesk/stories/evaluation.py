"""Replaying a PHEME-shaped file through story clustering and rumour-candidate proposal, in
memory, and scoring the candidates against PHEME's rumour / non-rumour labels.

The unit is the PHEME thread: each record is a thread's source tweet (replies are not in the
file), labelled rumour or non-rumour. A thread is *flagged* when the story its source tweet
joined is a rumour candidate by the end of the replay ("by the end"); the stricter "on
arrival" figures count it only if its story was already a candidate when it arrived.
Precision = flagged rumours / flagged; recall = flagged rumours / rumours.

Only threads the scoring model never trained on are replayed: a thread whose text is in the
model's rumour training fingerprints is left out (and counted), and asking for an event that
is wholly in training is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from beatdesk.stories.engine import Post, StoryEngine, Tuning, rumour_signal
from beatdesk.triage.bundle import Bundle
from beatdesk.triage.features import text_key


class ReplayError(ValueError):
    """The file cannot be replayed; the message names the line and the problem."""


@dataclass
class Record:
    id: str
    event: str
    at: dt.datetime
    text: str
    label: str
    language: str


def _when(value: str) -> dt.datetime:
    try:
        return parsedate_to_datetime(value)  # Twitter's "Wed Oct 22 13:55:50 +0000 2014"
    except (TypeError, ValueError):
        parsed = dt.datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def read(path: Path, events: set[str] | None = None) -> list[Record]:
    """The file's records (optionally only some events), in time order."""
    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ReplayError(f"cannot read {path}: {exc.strerror}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            record = Record(
                id=str(raw["id"]),
                event=str(raw.get("event", "")),
                at=_when(raw["created_at"]),
                text=str(raw["text"]),
                label=str(raw["label"]),
                language=str(raw.get("lang") or ""),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ReplayError(f"{path}:{number}: not a PHEME record ({exc!r})") from exc
        if record.label not in {"rumour", "non-rumour"}:
            raise ReplayError(f"{path}:{number}: label must be rumour or non-rumour")
        if events is None or record.event in events:
            records.append(record)
    if not records:
        which = f" for events {sorted(events)}" if events else ""
        raise ReplayError(f"{path}: no records{which}")
    records.sort(key=lambda r: (r.at, r.id))
    return records


def unseen(
    records: list[Record], bundle: Bundle, asked: set[str] | None = None
) -> tuple[list[Record], int]:
    """The records whose text the bundle's rumour head never trained on, and how many were
    left out. Refuses (ReplayError) when an asked-for event, or the whole file, is in training:
    scores on training data would be meaningless."""
    trained = bundle.trained_on("rumour", [text_key(r.text) for r in records])
    total: Counter[str] = Counter(r.event for r in records)
    seen: Counter[str] = Counter(r.event for r, t in zip(records, trained, strict=True) if t)
    wholly = sorted(e for e in (asked or set()) if total[e] and seen[e] == total[e])
    kept = [r for r, t in zip(records, trained, strict=True) if not t]
    if wholly or not kept:
        fresh = sorted(e for e in total if seen[e] < total[e])
        if len(wholly) > 1:
            which = f"events {', '.join(wholly)} are"
        else:
            which = f"event {wholly[0]} is" if wholly else "every event is"
        raise ReplayError(
            f"{which} wholly in the scoring model's rumour training data: scores on them "
            f"would be meaningless (events with unseen threads: {', '.join(fresh) or 'none'})"
        )
    return kept, int(trained.sum())


def _scores(flagged: Iterable[bool], gold: Iterable[bool]) -> dict[str, float]:
    pairs = list(zip(flagged, gold, strict=True))
    tp = sum(1 for f, g in pairs if f and g)
    fp = sum(1 for f, g in pairs if f and not g)
    fn = sum(1 for f, g in pairs if g and not f)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def replay(
    records: list[Record],
    tuning: Tuning | None = None,
    progress: Callable[[int], None] | None = None,
    bundle: Bundle | None = None,
) -> dict[str, Any]:
    """Cluster the records in time order and score the rumour candidates (the rumour signal
    read with bundle, the active model by default)."""
    started = time.perf_counter()
    signal = rumour_signal([r.text for r in records], bundle)
    scored = time.perf_counter()
    engine = StoryEngine(tuning=tuning)
    story_of: list[Any] = []
    on_arrival: list[bool] = []
    for i, (record, (score, cues)) in enumerate(zip(records, signal, strict=True)):
        if engine.stories and i % 500 == 0:
            engine.expire(record.at - engine.tuning.window)
        done = engine.add(
            Post(record.id, record.text, record.at, "x", record.language, score, cues)
        )
        story_of.append(done.story)
        on_arrival.append(done.story.candidate_since is not None)
        if progress is not None:
            progress(1)
    finished = time.perf_counter()
    gold = [r.label == "rumour" for r in records]
    by_end = [s.candidate_since is not None for s in story_of]
    stories = {id(s): s for s in story_of}
    sizes = Counter(s.size for s in stories.values())
    result: dict[str, Any] = {
        "n": len(records),
        "events": dict(Counter(r.event for r in records)),
        "rumours": sum(gold),
        "multi_post_stories": sum(c for size, c in sizes.items() if size > 1),
        "largest_story": max(sizes),
        "on_arrival": _scores(on_arrival, gold),
        "post_signal_only": _scores([score >= 0.5 for score, _ in signal], gold),
        "clustering_msgs_per_s": round(len(records) / max(finished - scored, 1e-9)),
        "stories": len(stories),
        "candidates": sum(1 for s in stories.values() if s.candidate_since is not None),
        **_scores(by_end, gold),
        "msgs_per_s": round(len(records) / max(finished - started, 1e-9)),
    }
    return result
