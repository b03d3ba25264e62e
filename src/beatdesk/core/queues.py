"""beatdesk's task queues, highest priority first (no Django imports: the CLI reads it
before Django is set up).

"triage" takes new messages' triage, "default" everything else (periodic jobs, sends,
clustering), "rereads" the stronger abuse model's second readings. RQ's worker serves
queues in the order given; the database queue has priorities instead (PRIORITY).
"""

from __future__ import annotations

QUEUES = ("triage", "default", "rereads")
PRIORITY = {"triage": 10, "default": 0, "rereads": -10}
