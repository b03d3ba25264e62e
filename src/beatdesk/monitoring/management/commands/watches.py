"""`beatdesk watches list|collect [--once]|purge`: the watches, their collection and retention."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from beatdesk.monitoring.actions import purge_expired_operations
from beatdesk.monitoring.collect import collect_due_watches
from beatdesk.monitoring.models import Watch
from beatdesk.monitoring.queries import with_counts


class Command(BaseCommand):
    help = "List watches, collect for every due watch (every N seconds), or apply retention."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        sub.add_parser("list", help="every watch: its state, term, expiry and posts kept")
        collect = sub.add_parser("collect", help="collect for every due watch, until stopped")
        collect.add_argument("--once", action="store_true", help="one round, then exit")
        collect.add_argument("--every", type=float, default=60.0, help="seconds between rounds")
        sub.add_parser("purge", help="delete what watches collected once retention has ended")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] == "list":
            self._list()
        elif options["what"] == "collect":
            self._collect(once=options["once"], every=options["every"])
        else:
            self._purge()

    def _list(self) -> None:
        watches = with_counts(Watch.objects.select_related("operation")).order_by(
            "operation__name", "name"
        )
        if not watches:
            self.stdout.write("no watches yet: propose one on the Monitoring page")
            return
        for watch in watches:
            self.stdout.write(
                f"{watch.operation.name} / {watch.name}: {watch.state}; "
                f"{watch.get_network_display()} {watch.get_kind_display().lower()} "
                f"{watch.query!r}; expires {watch.expires_at:%Y-%m-%d %H:%M} UTC; "
                f"{watch.collected} post(s) kept"  # type: ignore[attr-defined]
                + (f"; last error: {watch.last_error}" if watch.last_error else "")
            )

    def _collect(self, *, once: bool, every: float) -> None:
        try:
            while True:
                outcomes = collect_due_watches()
                if not outcomes:
                    self.stdout.write(
                        "no watch searches a network now (approved, started, unexpired); "
                        "replay watches are fed by `beatdesk replay FILE --watch NAME`"
                    )
                for outcome in outcomes:
                    line = f"{outcome.watch}: {outcome.status}"
                    if outcome.status == "collected":
                        line += f", {outcome.found} found, {outcome.stored} new"
                    self.stdout.write(line + (f" ({outcome.detail})" if outcome.detail else ""))
                if once:
                    return
                time.sleep(every)
        except KeyboardInterrupt:
            self.stdout.write("collection stopped; each watch resumes from its cursor next time")

    def _purge(self) -> None:
        purged = purge_expired_operations()
        if not purged:
            self.stdout.write(
                "nothing to delete: no operation's retention has ended with posts kept"
            )
        for item in purged:
            self.stdout.write(
                f"{item.operation}: {item.deleted} collected post(s) deleted, "
                f"{item.held} kept (held by a case)"
            )
