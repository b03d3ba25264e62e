"""The labelled data each triage task learns from and is measured on.

Each task names the file it reads (shapes as in ../shared/data), the gold field, and how
its held-out part is chosen: whole events for PHEME and CrisisLexT26 (as their papers
evaluate), a seeded stratified share otherwise. PHEME's held-out events stay out of the
shipped model as well (as the contact seed set's held-out part does).
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from beatdesk.triage.features import text_key

SEED = 20261121
SEED_SET = Path(__file__).parent / "data" / "contact_seed.jsonl"
# Later batches written the same way; all of them together are the contact training data.
SEED_FILES = sorted((Path(__file__).parent / "data").glob("contact_seed*.jsonl"))
# Tweets not addressed to the police (a sample of Davidson et al., MIT; see CHATTER.md): the
# emergency head and the alert check learn that talk of guns and killing among strangers is
# not a call for help.
CHATTER_FILE = Path(__file__).parent / "data" / "chatter.jsonl"


def chatter() -> Examples:
    """The chatter sample, labelled as not an emergency ("other")."""
    examples = Examples()
    for record in read_records(CHATTER_FILE):
        if record.get("text"):
            examples.add(record, "other")
    return examples


@dataclass(frozen=True)
class Task:
    name: str
    gold: str
    default_file: str  # relative to the shared data folder, or absolute
    skip: frozenset[str] = frozenset()
    held_out_events: tuple[str, ...] = ()
    held_out_share: float = 0.15
    # The shipped model leaves the held-out part out too, so that it can be measured on it.
    ships_without_held_out: bool = False


TASKS: dict[str, Task] = {
    t.name: t
    for t in [
        Task("abuse", "label", "olid/olid_train.jsonl"),
        Task("hate", "label", "davidson_hate/davidson_hate.jsonl", held_out_share=0.2),
        Task(
            "rumour",
            "label",
            "pheme/pheme.jsonl",
            held_out_events=("sydneysiege", "germanwings-crash"),
            ships_without_held_out=True,  # `monitor eval` reports on these two events
        ),
        Task(
            "crisis-informative",
            "label",
            "crisislex_t26/crisislex_t26.jsonl",
            held_out_events=(
                "2012_Colorado_wildfires",
                "2013_Queensland_floods",
                "2013_Savar_building_collapse",
                "2013_West_Texas_explosion",
            ),
        ),
        Task(
            "crisis-type",
            "info_type",
            "crisislex_t26/crisislex_t26.jsonl",
            skip=frozenset({"Not labeled", "Not applicable"}),
            held_out_events=(
                "2012_Colorado_wildfires",
                "2013_Queensland_floods",
                "2013_Savar_building_collapse",
                "2013_West_Texas_explosion",
            ),
        ),
        Task("contact", "contact_type", str(SEED_SET), held_out_share=0.2),
    ]
}


@dataclass
class Examples:
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def plus(self, other: Examples) -> Examples:
        """These examples followed by the other's, as a new set."""
        joined = Examples(list(self.texts), list(self.labels), list(self.records))
        for record, label in zip(other.records, other.labels, strict=True):
            joined.add(record, label)
        return joined

    def add(self, record: dict[str, Any], label: str) -> None:
        self.texts.append(str(record.get("text") or ""))
        self.labels.append(label)
        self.records.append(record)


class DataError(ValueError):
    """A file that cannot be read as labelled records for the task."""


def read_records(path: Path) -> Iterable[dict[str, Any]]:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}, line {number}: not JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise DataError(f"{path}, line {number}: not a JSON object")
            yield record


def load(task: Task, path: Path | list[Path]) -> Examples:
    examples = Examples()
    paths = path if isinstance(path, list) else [path]
    for record in (r for p in paths for r in read_records(p)):
        label = record.get(task.gold)
        if label is None or str(label) in task.skip or not record.get("text"):
            continue
        examples.add(record, str(label))
    if not examples:
        raise DataError(f"{path}: no records with a '{task.gold}' label for task {task.name}")
    return examples


def split(task: Task, examples: Examples) -> tuple[Examples, Examples]:
    """(train, held out). Duplicate texts never straddle the split."""
    train, held = Examples(), Examples()
    if task.held_out_events:
        for record, label in zip(examples.records, examples.labels, strict=True):
            target = held if record.get("event") in task.held_out_events else train
            target.add(record, label)
        return train, _drop_overlap(train, held)
    rng = random.Random(SEED)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(examples.labels):
        by_label[label].append(i)
    chosen: set[int] = set()
    for label in sorted(by_label):
        idx = sorted(by_label[label], key=lambda i: text_key(examples.texts[i]))
        rng.shuffle(idx)
        chosen.update(idx[: max(1, round(task.held_out_share * len(idx)))])
    for i, (record, label) in enumerate(zip(examples.records, examples.labels, strict=True)):
        (held if i in chosen else train).add(record, label)
    return train, _drop_overlap(train, held)


def contact_parts() -> tuple[Examples, Examples]:
    """The seed set's (train, held out). The first two batches were split together; each
    later batch is split on its own, so adding a batch never moves a message of an earlier
    one across the split (a model trained before it stays unseen by the held-out part)."""
    task = TASKS["contact"]
    first = [p for p in SEED_FILES if p.name in {"contact_seed.jsonl", "contact_seed_2.jsonl"}]
    groups = [first] + [[p] for p in SEED_FILES if p not in first]
    train, held = Examples(), Examples()
    for group in groups:
        if group:
            part_train, part_held = split(task, load(task, group))
            train, held = train.plus(part_train), held.plus(part_held)
    return train, _drop_overlap(train, held)


def _drop_overlap(train: Examples, held: Examples) -> Examples:
    seen = {text_key(t) for t in train.texts}
    clean = Examples()
    for record, label, text in zip(held.records, held.labels, held.texts, strict=True):
        if text_key(text) not in seen:
            clean.add(record, label)
    return clean
