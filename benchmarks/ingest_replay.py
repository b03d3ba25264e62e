"""How fast the ingestion path stores messages: store raw → normalise → dedupe → thread → audit.

    BEATDESK_HOME=$(mktemp -d) .venv/bin/python benchmarks/ingest_replay.py [N]
    DATABASE_URL=postgresql://… .venv/bin/python benchmarks/ingest_replay.py [N]

Prints one JSON line: messages per second for new messages and for duplicate deliveries,
and peak memory. Generated messages only; nothing from ../shared.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beatdesk.settings")


def main(n: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from beatdesk.demo.seed import seed
    from beatdesk.inbox.actions import do_receive
    from beatdesk.networks.models import NetworkAccount

    call_command("migrate", verbosity=0)
    force = seed()
    account = NetworkAccount.objects.get(force=force, kind="replay")
    run = time.time_ns()
    bodies = [
        json.dumps(
            {
                "id": f"bench-{run}-{i}",
                "network": "x",
                "author": f"@resident{i % 500}",
                "created_at": "2026-03-14T12:00:00Z",
                "text": f"Bike stolen from outside the library on Dudley Rd, report {i}",
                "account": "@WMP_DudleyRd" if i % 3 else "@WestmerePolice",
                "reply_to": f"bench-{run}-{i - 1}" if i % 5 == 0 and i else None,
            }
        )
        for i in range(n)
    ]
    start = time.perf_counter()
    for body in bodies:
        do_receive(account, body)
    new_s = time.perf_counter() - start
    start = time.perf_counter()
    for body in bodies[: n // 2]:
        do_receive(account, body)
    dup_s = time.perf_counter() - start
    from django.db import connection

    print(
        json.dumps(
            {
                "database": connection.vendor,
                "messages": n,
                "new_msgs_per_s": round(n / new_s, 1),
                "duplicate_msgs_per_s": round((n // 2) / dup_s, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
