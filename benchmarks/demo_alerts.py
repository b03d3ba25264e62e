"""How many grade-1 alerts the demo day raises, against the day's truth: the shipped triage
models reading the demo scenario's messages, each of which carries the contact type and
grade a person gave it (src/beatdesk/demo/SCENARIO.md, "Its truth").

An alert is what triage.actions.do_triage raises: a grade-1 reading, except that a news-feed
item (network rss) is never graded 1 by the desk. demo/tests/test_scenario_truth.py checks
the same day through the real ingestion path and worker.

--carnival reads the carnival's hashtag posts the same way. The desk never grades those (they
are watch posts, not inbox messages), so its figures say only what the alert would do if
such posts reached the inbox.

.venv/bin/python benchmarks/demo_alerts.py [--carnival] [--list]

Prints the false alerts and missed emergencies (--list: every alert, with its first reason),
then one JSON line: messages, alerts, emergencies, emergencies_alerted, false_alerts,
precision, recall.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

DEMO = Path(__file__).parent.parent / "src/beatdesk/demo"


def _show(label: str, record: dict[str, Any], reason: str = "") -> None:
    text = record["text"].replace("\n", " ")[:100]
    print(f"{label:<13} {record['id']:>14}  {record['contact_type']}/{record['grade']}  {text!r}")
    if reason:
        print(f"{'':<29}({reason})")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beatdesk.settings")
    import django

    django.setup()
    from beatdesk.triage.engine import read_many

    path = DEMO / ("carnival.jsonl" if "--carnival" in sys.argv else "scenario.jsonl")
    records = [json.loads(line) for line in path.open(encoding="utf-8")]
    readings = read_many([r["text"] for r in records])
    alerted = [
        (r, x)
        for r, x in zip(records, readings, strict=True)
        if x.grade == 1 and r.get("network") != "rss"
    ]
    alerted_ids = {r["id"] for r, _ in alerted}
    emergencies = [r for r in records if r["contact_type"] == "emergency"]
    caught = [r for r in emergencies if r["id"] in alerted_ids]
    false = [(r, x) for r, x in alerted if r["contact_type"] != "emergency"]
    for record, reading in alerted:
        if "--list" in sys.argv or record["contact_type"] != "emergency":
            label = "alert" if record["contact_type"] == "emergency" else "FALSE alert"
            _show(label, record, reading.reasons[0] if reading.reasons else "")
    for record in emergencies:
        if record["id"] not in alerted_ids:
            _show("MISSED", record)
    figures = {
        "file": path.name,
        "messages": len(records),
        "alerts": len(alerted),
        "emergencies": len(emergencies),
        "emergencies_alerted": len(caught),
        "false_alerts": len(false),
        "precision": round(len(caught) / len(alerted), 4) if alerted else None,
        "recall": round(len(caught) / len(emergencies), 4) if emergencies else None,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
