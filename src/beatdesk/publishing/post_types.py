"""Post types with templates the force starts from: appeals (witness, missing person,
wanted), crime prevention, event notices, results (arrest, charge, sentence) and live-event
updates, in plain, friendly words. Shipped as data (data/post_templates.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TEMPLATES_FILE = Path(__file__).resolve().parent / "data" / "post_templates.json"


@dataclass(frozen=True)
class PostTemplate:
    key: str
    kind: str  # a Post.Kind value
    name: str
    text: str  # [square brackets] mark what the writer fills in
    note: str  # what to watch for (sub judice, consent, review dates)
    review_days: int | None  # appeals: the review date is this many days ahead


@cache
def post_templates() -> tuple[PostTemplate, ...]:
    rows = json.loads(TEMPLATES_FILE.read_text(encoding="utf-8"))
    return tuple(PostTemplate(**row) for row in rows)
