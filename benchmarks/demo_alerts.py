"""How many grade-1 alerts the demo day raises: the shipped triage models reading the demo
scenario's messages (news-feed items are never graded 1 by the desk, so they are left out).
The scenario's author counted 8 real emergencies (src/beatdesk/demo/SCENARIO.md).

.venv/bin/python benchmarks/demo_alerts.py [--list]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

SCENARIO = Path(__file__).parent.parent / "src/beatdesk/demo/scenario.jsonl"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beatdesk.settings")
    import django

    django.setup()
    from beatdesk.triage.engine import read_many

    records = [json.loads(line) for line in SCENARIO.open(encoding="utf-8")]
    records = [r for r in records if r.get("network") != "rss"]
    readings = read_many([r["text"] for r in records])
    alerts = [(r, x) for r, x in zip(records, readings, strict=True) if x.grade == 1]
    if "--list" in sys.argv:
        for record, reading in alerts:
            print(f"{record['id']:>10}  {record['text'][:80]!r}  ({reading.reasons[0]})")
    print(json.dumps({"messages": len(records), "grade_1": len(alerts)}))


if __name__ == "__main__":
    main()
