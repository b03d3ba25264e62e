"""`beatdesk poll`: the periodic work run inline, for a single machine with no scheduler.

It runs the same table of jobs as `beatdesk scheduler` (operations/scheduler.py), in this process
rather than on the workers, each job when its interval has passed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from beatdesk.operations.scheduler import run_inline


class Command(BaseCommand):
    help = (
        "Run the periodic work (fetching every account, escalation, scheduled posts, ...) "
        "in this process, each job on its interval; a round every N seconds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=5.0, help="seconds between rounds")
        parser.add_argument("--once", action="store_true", help="every job once, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run_inline(
                self.stdout.write,
                every=options["every"],
                once=options["once"],
                verbose=options["verbosity"] > 1,
            )
        except KeyboardInterrupt:
            self.stdout.write("poll stopped; each account resumes from its cursor next time")
