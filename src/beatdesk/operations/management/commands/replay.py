"""`beatdesk replay FILE [--speed N|--fast]`: recorded posts as live inbound traffic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from beatdesk.monitoring.replay import replay_into_watch, replay_watch
from beatdesk.networks.replay.client import ReplayFileError
from beatdesk.networks.replay.command import replay, replay_account

MAX_FAILURES_SHOWN = 20


def _progress(title: str, *, disable: bool) -> Progress:
    return Progress(
        TextColumn(f"[bold]{title}[/] {{task.description}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=disable,
        transient=False,
    )


class Command(BaseCommand):
    help = "Play a JSONL or CSV file of posts through the ingestion path, as live traffic."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        pace = parser.add_mutually_exclusive_group()
        pace.add_argument(
            "--speed", type=float, default=1.0, help="N times faster than real time (default 1)"
        )
        pace.add_argument("--fast", action="store_true", help="as fast as possible")
        parser.add_argument("--account", default="replay", help="replay account handle")
        parser.add_argument(
            "--rebase-time",
            action="store_true",
            help="into the inbox: stamp each post with the moment it is delivered (the demo "
            "does this); into a watch: move the file so its last post is now, keeping the "
            "posts' spacing",
        )
        parser.add_argument("--limit", type=int, help="deliver only the first N records")
        parser.add_argument(
            "--watch",
            help="play into this approved watch's collected posts (not the inbox); "
            "OPERATION/NAME when several watches share the name",
        )
        parser.add_argument("--event", help="only the records of this event (PHEME's 'event')")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        speed = None if options["fast"] else options["speed"]
        if speed is not None and speed <= 0:
            raise CommandError("--speed must be greater than 0")
        if options["watch"]:
            self._into_watch(options, speed)
            return
        if options["event"]:
            raise CommandError("--event selects records to replay through a watch: add --watch")
        try:
            account = replay_account(options["account"])
            with _progress("replay", disable=options["no_progress"]) as progress:
                bar = progress.add_task(options["file"].name, total=None)

                def tick(done: int, total: int, status: str) -> None:
                    progress.update(bar, completed=done, total=total)

                failures: list[tuple[int, str]] = []

                outcomes = replay(
                    options["file"],
                    speed=speed,
                    account=account,
                    rebase_time=options["rebase_time"],
                    limit=options["limit"],
                    on_delivery=tick,
                    on_failed=lambda line, reason: failures.append((line, reason)),
                    on_outage=lambda message: progress.console.print(message, style="yellow"),
                )
        except ReplayFileError as exc:
            raise CommandError(str(exc)) from exc
        left = outcomes.pop("interrupted", None)
        summary = ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items()))
        self.stdout.write(f"replayed {sum(outcomes.values())} posts: {summary or 'none'}")
        for line, reason in failures[:MAX_FAILURES_SHOWN]:
            self.stdout.write(f"line {line}: kept as a dead letter: {reason}")
        if len(failures) > MAX_FAILURES_SHOWN:
            more = len(failures) - MAX_FAILURES_SHOWN
            self.stdout.write(f"… and {more} more line(s) kept as dead letters")
        if left is not None:
            self.stdout.write(f"replay stopped early: {left} posts not delivered")

    def _into_watch(self, options: dict[str, Any], speed: float | None) -> None:
        try:
            watch = replay_watch(options["watch"])
            with _progress(f"replay → {watch.name}", disable=options["no_progress"]) as progress:
                bar = progress.add_task(options["file"].name, total=None)
                outcomes = replay_into_watch(
                    options["file"],
                    watch,
                    speed=speed,
                    rebase_time=options["rebase_time"],
                    limit=options["limit"],
                    event=options["event"] or "",
                    on_delivery=lambda done, total, _: progress.update(
                        bar, completed=done, total=total
                    ),
                )
        except ReplayFileError as exc:
            raise CommandError(str(exc)) from exc
        left = outcomes.pop("interrupted", None)
        summary = ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items()))
        self.stdout.write(
            f"replayed {sum(outcomes.values())} posts into watch {watch.name!r} "
            f"({watch.operation.name}): {summary or 'none'}"
        )
        if left is not None:
            self.stdout.write(f"replay stopped early: {left} posts not delivered")
