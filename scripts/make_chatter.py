"""Write src/beatdesk/triage/data/chatter.jsonl: tweets not addressed to the police, which the
emergency head and the alert check learn are never emergencies (see CHATTER.md).

    .venv/bin/python scripts/make_chatter.py ../shared/data/davidson_hate/davidson_hate.jsonl
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src/beatdesk/triage/data/chatter.jsonl"
# Per Davidson label: the plain tweets are the fewest and the most like what a desk hears.
TAKE = {"neither": 2000, "offensive_language": 1200, "hate_speech": 300}
SEED = 20261204


def main(source: str) -> None:
    by_label: dict[str, list[dict[str, str]]] = {}
    with open(source, encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            by_label.setdefault(record["label"], []).append(record)
    rng = random.Random(SEED)
    chosen = []
    for label, n in TAKE.items():
        rows = sorted(by_label[label], key=lambda r: int(r["id"]))
        chosen += rng.sample(rows, n)
    chosen.sort(key=lambda r: int(r["id"]))
    with OUT.open("w", encoding="utf-8") as out:
        for r in chosen:
            row = {"id": f"davidson-{r['id']}", "text": r["text"], "source": "davidson_hate"}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(chosen)} tweets -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
