"""Learning from staff corrections: the contact-type, grade and emergency heads and the alert
check are refitted on the seed set plus every correction, and compared before/after on the
seed set's held-out part.

The other heads (abuse, hate, rumour, relevance) are kept as shipped: they learn from the
public datasets, which an installation does not carry.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from beatdesk.triage.bundle import Bundle, active_bundle, load_bundle, retrained_path
from beatdesk.triage.datasets import Examples, contact_parts
from beatdesk.triage.features import text_key
from beatdesk.triage.models import TriageCorrection
from beatdesk.triage.training import contact_scores, fit_contact


def corrections() -> Examples:
    """The latest correction of each message, as labelled examples."""
    latest: dict[int, TriageCorrection] = {}
    for c in TriageCorrection.objects.select_related("message").order_by("created_at", "id"):
        latest[c.message_id] = c
    examples = Examples()
    for c in latest.values():
        examples.add({"text": c.message.text, "grade": c.grade}, c.contact_type)
    return examples


def retrain(
    out: Path | None = None, progress: Callable[[str], None] = lambda s: None
) -> dict[str, Any]:
    before_bundle = active_bundle()
    train_part, held = contact_parts()
    learned = corrections()
    held_keys = {text_key(t) for t in held.texts}
    for record, label, text in zip(learned.records, learned.labels, learned.texts, strict=True):
        if text_key(text) not in held_keys:  # never train on the yardstick
            train_part.add(record, label)
    progress(
        f"refitting contact type and grade on {len(train_part)} examples "
        f"({len(learned)} corrections)"
    )
    contact = fit_contact(train_part)
    heads = {**before_bundle.heads, **contact.heads}
    keys = dict(before_bundle.trained_keys)
    keys["contact"] = keys["grade"] = keys["emergency"] = np.unique(
        np.array([text_key(t) for t in train_part.texts], dtype=np.int64)
    )
    after_bundle = Bundle(
        heads=heads,
        trained_keys=keys,
        meta={
            **before_bundle.meta,
            **contact.meta(),
            "retrained_with_corrections": len(learned),
        },
    )
    target = out or retrained_path()
    before = contact_scores(before_bundle, held)
    after = contact_scores(after_bundle, held)
    after_bundle.save(target)
    load_bundle.cache_clear()
    return {
        "corrections": len(learned),
        "held_out": len(held),
        "before": before,
        "after": after,
        "model": str(target),
    }
