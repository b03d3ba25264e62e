"""`beatdesk bench ingest --messages N`: figures for the inbound path; last line is JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.progress import Progress

from beatdesk.networks.replay.client import ReplayFileError
from beatdesk.networks.replay.command import replay_account


class Command(BaseCommand):
    help = "Measure ingestion: store, dedupe, triage, route and commit N generated messages."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        ingest = sub.add_parser("ingest")
        ingest.add_argument("--messages", type=int, default=10_000)
        ingest.add_argument("--batch", type=int, default=500)
        ingest.add_argument(
            "--workers",
            type=int,
            default=1,
            help="worker processes sharing the batches, as `beatdesk worker` processes would",
        )
        ingest.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from beatdesk.inbox.bench import BenchError, run

        if options["messages"] < 1 or options["batch"] < 1 or options["workers"] < 1:
            raise CommandError("--messages, --batch and --workers must be at least 1")
        try:
            account = replay_account()
        except ReplayFileError as exc:
            raise CommandError(str(exc)) from exc
        with Progress(disable=options["no_progress"], transient=True) as progress:
            bar = progress.add_task("ingesting", total=options["messages"])
            try:
                result = run(
                    account,
                    options["messages"],
                    batch=options["batch"],
                    workers=options["workers"],
                    progress=lambda done: progress.update(bar, completed=done),
                )
            except BenchError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result))
