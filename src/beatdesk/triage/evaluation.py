"""`beatdesk triage eval`: score the shipped models on a file, never on their training data."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from beatdesk.triage.bundle import Bundle
from beatdesk.triage.datasets import TASKS, DataError, Examples, load
from beatdesk.triage.encoder import load_encoder
from beatdesk.triage.engine import read_many
from beatdesk.triage.features import text_key
from beatdesk.triage.profanity import AbuseStack, read_offensive
from beatdesk.triage.training import DESK_ABUSE, desk_abuse_scores, score


def _unseen(bundle: Bundle, head: str, examples: Examples) -> tuple[Examples, int]:
    trained = bundle.trained_on(head, [text_key(t) for t in examples.texts])
    kept = Examples()
    for record, label, seen in zip(examples.records, examples.labels, trained, strict=True):
        if not seen:
            kept.add(record, label)
    return kept, int(trained.sum())


def _share(hits: int, of: int) -> float | None:
    return round(hits / of, 4) if of else None


def alert_scores(
    gold_types: list[str], types: list[str], gold_grades: list[str], grades: list[int]
) -> dict[str, float | None]:
    """Precision and recall of the emergency type and of grade 1 (what raises an alert)."""
    gold_e = np.array(gold_types) == "emergency"
    said_e = np.array(types) == "emergency"
    gold_1 = np.array(gold_grades) == "1"
    said_1 = np.array(grades) == 1
    return {
        "emergency_precision": _share(int((gold_e & said_e).sum()), int(said_e.sum())),
        "emergency_recall": _share(int((gold_e & said_e).sum()), int(gold_e.sum())),
        "grade1_precision": _share(int((gold_1 & said_1).sum()), int(said_1.sum())),
        "grade1_recall": _share(int((gold_1 & said_1).sum()), int(gold_1.sum())),
    }


def confusion(gold: list[str], predicted: list[str]) -> dict[str, dict[str, int]]:
    """Counts of each (true type → read as) pair, rows by true type."""
    labels = sorted(set(gold) | set(predicted))
    table = {g: dict.fromkeys(labels, 0) for g in sorted(set(gold))}
    for g, p in zip(gold, predicted, strict=True):
        table[g][p] += 1
    return table


def evaluate(bundle: Bundle, task_name: str, path: Path) -> dict[str, Any]:
    if task_name not in TASKS:
        raise DataError(f"unknown task {task_name!r}; tasks: {', '.join(TASKS)}")
    task = TASKS[task_name]
    examples, skipped = _unseen(bundle, task_name, load(task, path))
    result: dict[str, Any] = {"task": task_name, "n": len(examples)}
    if not len(examples):
        raise DataError(
            f"{path}: every record was in the model's training data ({skipped}); "
            "scores on training data would be meaningless"
        )
    stack = AbuseStack.from_meta(bundle.meta.get("abuse_stack"))
    if task_name == "contact":
        read_many(["warm up"], bundle)  # loading the language models is not per message
    if task_name == "abuse" and stack is not None and stack.encoder is not None:
        load_encoder(stack.encoder.adapter)  # nor is loading the encoder
    started = time.perf_counter()
    if task_name == "contact":
        readings = read_many(examples.texts, bundle)
        elapsed = time.perf_counter() - started
        predicted = [r.contact_type for r in readings]
        ours = score(examples.labels, predicted)
        gold_grades = [str(r.get("grade")) for r in examples.records]
        grades = score(gold_grades, [str(r.grade) for r in readings])
        result.update(
            macro_f1=ours.macro_f1,
            per_class=ours.per_class,
            grade_macro_f1=grades.macro_f1,
            **alert_scores(examples.labels, predicted, gold_grades, [r.grade for r in readings]),
            confusion=confusion(examples.labels, predicted),
        )
        right = [
            r["lang"] == reading.language
            for r, reading in zip(examples.records, readings, strict=True)
            if r.get("lang")
        ]
        if right:
            result["language_accuracy"] = round(float(np.mean(right)), 4)
        if any(label in DESK_ABUSE for label in examples.labels):
            # Not part of the timing: the abuse flag as the desk sees it, by contact type.
            result["abuse_flags"] = desk_abuse_scores(bundle.heads["abuse"], stack, examples)
    elif task_name == "abuse":
        reading = read_offensive(bundle.heads["abuse"], stack, bundle.features(examples.texts))
        elapsed = time.perf_counter() - started
        ours = score(examples.labels, ["OFF" if p >= 0.5 else "NOT" for p in reading.proba])
        result.update(
            macro_f1=ours.macro_f1,
            per_class=ours.per_class,
            encoder_share=round(float(reading.read_by_encoder.mean()), 4),
        )
    else:
        head = bundle.heads[task_name]
        predicted = head.predict(bundle.features(examples.texts))
        elapsed = time.perf_counter() - started
        ours = score(examples.labels, predicted)
        result.update(macro_f1=ours.macro_f1, per_class=ours.per_class)
    result["msgs_per_s"] = round(len(examples) / max(elapsed, 1e-9), 1)
    result["skipped_as_training_data"] = skipped
    return result
