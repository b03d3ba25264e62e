"""`beatdesk scheduler`: hand the periodic work to the workers, one scheduler at a time."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from beatdesk.operations.scheduler import serve


class Command(BaseCommand):
    help = (
        "Hand each periodic job to the background workers when due. Run one on each of two "
        "machines: one holds the lock, the other stands by and takes over when it stops."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one round, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        signal.signal(signal.SIGTERM, _stop)  # systemd's stop: release the lock at once
        try:
            serve(self.stdout.write, once=options["once"])
        except KeyboardInterrupt:
            self.stdout.write("scheduler stopped; the lock is released")


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
