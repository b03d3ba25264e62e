"""Personal-data detection speed: messages per second on one core.

.venv/bin/python benchmarks/personal_data.py
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from beatdesk.triage.personal_data import find_personal_data

SEED = Path(__file__).parent.parent / "src/beatdesk/triage/data/contact_seed.jsonl"


def main() -> None:
    texts = [json.loads(line)["text"] for line in SEED.open()] * 20
    best = 0.0
    for _ in range(3):
        started = time.perf_counter()
        found = sum(len(find_personal_data(t)) for t in texts)
        best = max(best, len(texts) / (time.perf_counter() - started))
    print(json.dumps({"messages": len(texts), "spans": found, "msgs_per_s": round(best)}))


if __name__ == "__main__":
    main()
