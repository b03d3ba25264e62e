"""The desk under a disorder-day load: queue counts, the inbox page, a bulk close and its
undo over N open messages (default 100,000).

    BEATDESK_HOME=$(mktemp -d) .venv/bin/python benchmarks/surge.py [N]

Setup writes the messages directly (not through ingestion, which bench ingest measures).
Prints one JSON line of seconds per operation.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beatdesk.settings")


def main(n: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from beatdesk.accounts.models import User
    from beatdesk.core.clock import now
    from beatdesk.demo.seed import seed
    from beatdesk.inbox import bulk
    from beatdesk.inbox.models import Message
    from beatdesk.inbox.queries import InboxFilter, inbox_page, queue_counts, visible_messages
    from beatdesk.networks.models import NetworkAccount

    call_command("migrate", verbosity=0)
    force = seed()
    account = NetworkAccount.objects.get(force=force, handle="@WestmerePolice")
    desk = force.teams.get(slug="digital-desk")
    at = now()
    run = time.time_ns()
    for start in range(0, n, 5000):
        Message.objects.bulk_create(
            [
                Message(
                    network="x",
                    external_id=f"surge-{run}-{i}",
                    via="replay",
                    account=account,
                    author_handle=f"@person{i % 9000}",
                    text=f"is it true about the van? {i}",
                    created_at=at,
                    received_at=at,
                    raw="{}",
                    raw_sha256="0" * 64,
                    team=desk,
                    routed_at=at,
                )
                for i in range(start, min(start + 5000, n))
            ]
        )
    dana = User.objects.get(username="dana.desk")
    timings = {}

    def timed(name, fn):
        started = time.perf_counter()
        result = fn()
        timings[name] = round(time.perf_counter() - started, 3)
        return result

    timed("queue_counts_s", lambda: queue_counts(dana))
    timed("inbox_page_s", lambda: inbox_page(dana, InboxFilter(queue="unassigned")))
    timed("search_s", lambda: inbox_page(dana, InboxFilter(q="van 99999")))
    everything = visible_messages(dana).filter(external_id__startswith=f"surge-{run}-")
    timed("preview_s", lambda: bulk.preview(dana, everything, "close", outcome="no_action"))
    operation = timed(
        "bulk_close_s", lambda: bulk.apply(dana, everything, "close", outcome="no_action")
    )
    timed("undo_s", lambda: bulk.undo(dana, operation.pk))
    from django.db import connection

    print(json.dumps({"database": connection.vendor, "open_messages": n, **timings}))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
