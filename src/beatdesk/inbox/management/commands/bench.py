"""`beatdesk bench ingest --messages N`: figures for the inbound path; last line is JSON.

`--workers 1,2,4 --rate R` is the scaling curve: for each worker count, N real `beatdesk
worker` processes (RQ with BEATDESK_TASKS=rq) take messages delivered R a second, and the
receipt-to-routed p50 and p99 are printed, one line per count, then one JSON line.

Every bench runs in a throw-away home of its own (a new temporary BEATDESK_HOME on SQLite,
migrated and seeded with the demo force), whose path it prints, so that it works on a fresh
machine and never writes into a real installation. --use-current-home runs it on the
configured home and database instead (DATABASE_URL for PostgreSQL), which must be migrated.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from argparse import ArgumentParser, ArgumentTypeError
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from rich.progress import Progress

from beatdesk.inbox.bench import BenchError, run, sustained
from beatdesk.networks.replay.client import ReplayFileError
from beatdesk.networks.replay.command import replay_account

# Settings that point at the current installation: a throw-away home must not inherit them.
INSTALLATION_ENV = ("DATABASE_URL", "BEATDESK_SQLITE", "BEATDESK_AUDIT_DIR", "BEATDESK_TASKS")


class Command(BaseCommand):
    help = "Measure ingestion: store, dedupe, triage, route and commit N generated messages."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        ingest = sub.add_parser("ingest")
        ingest.add_argument("--messages", type=int, default=10_000)
        ingest.add_argument("--batch", type=int, default=500)
        ingest.add_argument(
            "--workers",
            type=_counts,
            default=[1],
            help="worker processes sharing the batches, as `beatdesk worker` processes would; "
            "with --rate, running `beatdesk worker` processes; a list (1,2,4) runs each",
        )
        ingest.add_argument(
            "--rate",
            type=float,
            default=None,
            help="messages a second, delivered one at a time to running workers: the "
            "receipt-to-routed latency at a sustained rate",
        )
        ingest.add_argument("--no-progress", action="store_true")
        self.benches: dict[str, ArgumentParser] = {"ingest": ingest}
        for bench in self.benches.values():
            bench.add_argument(
                "--use-current-home",
                action="store_true",
                help="run on the configured home and database (migrated), not a throw-away "
                "SQLite home of its own",
            )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["messages"] < 1 or options["batch"] < 1 or min(options["workers"]) < 1:
            raise CommandError("--messages, --batch and --workers must be at least 1")
        if options["rate"] is not None and options["rate"] <= 0:
            raise CommandError("--rate must be above 0 messages a second")
        if not options["use_current_home"]:
            self._in_throwaway_home(options)
            return
        unapplied = _unapplied_migrations()
        if unapplied:
            raise CommandError(
                f"the database of {settings.HOME} is not migrated ({unapplied} migrations not "
                "applied): run `beatdesk migrate` and `beatdesk seed_demo` first, or leave out "
                "--use-current-home to bench in a throw-away home"
            )
        getattr(self, f"_{options['what']}")(options)

    def _in_throwaway_home(self, options: dict[str, Any]) -> None:
        """Make, migrate and seed a new home, then run this same bench there."""
        home = Path(tempfile.mkdtemp(prefix="beatdesk-bench-"))
        self.stderr.write(
            f"bench home: {home} (SQLite, migrated and seeded with the demo force; kept "
            "afterwards, delete it when done). --use-current-home runs on the configured one."
        )
        env = {**os.environ, "BEATDESK_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        for name in INSTALLATION_ENV:
            env.pop(name, None)
        for step in (["migrate", "--no-input", "-v0"], ["seed_demo"]):
            made = subprocess.run(
                [sys.executable, "-m", "beatdesk", *step], env=env, capture_output=True, text=True
            )
            if made.returncode:
                raise CommandError(
                    f"preparing the bench home: beatdesk {' '.join(step)} exited "
                    f"{made.returncode}:\n{made.stdout}{made.stderr}"
                )
        # Output straight to this process's own: the progress bar and the JSON line.
        ran = subprocess.run(
            [sys.executable, "-m", "beatdesk", *self._argv(options), "--use-current-home"],
            env=env,
        )
        if ran.returncode:
            raise CommandError(f"the bench in {home} failed (exit {ran.returncode})")

    def _argv(self, options: dict[str, Any]) -> list[str]:
        """This bench's command line, from its parsed options."""
        argv = ["bench", options["what"]]
        for action in self.benches[options["what"]]._actions:
            if not action.option_strings or action.dest in {"help", "use_current_home"}:
                continue
            value = options[action.dest]
            if action.nargs == 0:  # a switch
                argv += [action.option_strings[0]] if value else []
            elif isinstance(value, list):
                argv += [action.option_strings[0], ",".join(str(v) for v in value)]
            elif value is not None:
                argv += [action.option_strings[0], str(value)]
        return argv

    def _ingest(self, options: dict[str, Any]) -> None:
        try:
            account = replay_account()
        except ReplayFileError as exc:
            raise CommandError(str(exc)) from exc
        curve = []
        for workers in options["workers"]:
            with Progress(disable=options["no_progress"], transient=True) as progress:
                bar = progress.add_task(f"{workers} worker(s)", total=options["messages"])
                advance = lambda done, bar=bar: progress.update(bar, completed=done)  # noqa: E731
                try:
                    if options["rate"] is None:
                        result = run(
                            account, options["messages"], batch=options["batch"],
                            workers=workers, progress=advance,
                        )  # fmt: skip
                    else:
                        result = sustained(
                            account, options["messages"], options["rate"], workers, advance
                        )
                except BenchError as exc:
                    raise CommandError(str(exc)) from exc
            result = {**result, "home": str(settings.HOME)}
            if options["rate"] is None and len(options["workers"]) == 1:
                self.stdout.write(json.dumps(result))
                return
            rate = result.get("routed_per_s", result.get("msgs_per_s"))
            self.stdout.write(
                f"{workers} worker(s): {rate} msgs/s, receipt to routed "
                f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
            )
            curve.append(result)
        self.stdout.write(json.dumps({"rate_per_s": options["rate"], "curve": curve}))


def _counts(value: str) -> list[int]:
    """--workers 4, or a list: 1,2,4."""
    try:
        return [int(v) for v in value.split(",") if v.strip()] or [0]
    except ValueError:
        raise ArgumentTypeError(
            f"{value!r} is not a worker count or a list such as 1,2,4"
        ) from None


def _unapplied_migrations() -> int:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
