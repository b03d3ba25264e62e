"""`beatdesk live create|import|summary|token|sample`: live-event streams from the command line."""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from beatdesk.accounts.models import Force
from beatdesk.live.actions import do_add_entries, do_create_event, do_new_token, event_accounts
from beatdesk.live.entries import LONDON
from beatdesk.live.importing import LogError, read_log
from beatdesk.live.models import LiveEvent
from beatdesk.live.queries import summarise
from beatdesk.live.sample_log import generate, write_csv

FORMAT = """\
The incident log is a CSV file (UTF-8, comma-separated, first line the header) with the
columns time,type,location,summary,outcome in any order; other columns are kept but not
published, and a 'reference' column, if there is one, identifies each row. time is HH:MM
(on the event's day, past midnight rolling to the next) or ISO 8601 (2024-11-22T14:32).
type and time must not be empty. See INCIDENT_LOG.md in beatdesk/live."""


class Command(BaseCommand):
    help = "Live-event streams (#gmp24): create an event, import its incident log, summarise it."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        from argparse import RawDescriptionHelpFormatter

        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        parser.epilog = FORMAT
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        create = sub.add_parser("create", help="create an event; prints its intake token once")
        create.add_argument("--name", required=True)
        create.add_argument("--hashtag", required=True, help="such as #bsp24")
        create.add_argument(
            "--starts", required=True, help="ISO 8601, UK time if no offset: 2024-11-22T05:00"
        )
        create.add_argument("--hours", type=float, default=24.0, help="how long it runs")
        create.add_argument(
            "--account",
            action="append",
            required=True,
            help="handle of an account to post from (repeat for several)",
        )
        create.add_argument("--pacing", type=int, default=2, help="minutes between posts")
        create.add_argument("--force", help="force slug (when there is more than one)")
        importing = sub.add_parser(
            "import",
            help="import an incident log (CSV) as entries awaiting approval",
            description=FORMAT,
        )
        importing.add_argument("event", help="the event's number or hashtag")
        importing.add_argument("file", type=Path, help="the incident log, .csv")
        summary = sub.add_parser("summary", help="entries, posts, replies and follower change")
        summary.add_argument("event", help="the event's number or hashtag")
        token = sub.add_parser("token", help="issue a new intake token (the old one stops)")
        token.add_argument("event", help="the event's number or hashtag")
        sample = sub.add_parser("sample", help="write a made-up incident log to stdout")
        sample.add_argument("--rows", type=int, default=3000)
        sample.add_argument("--seed", type=int, default=24)
        sample.add_argument("--starts", default="2024-11-22T05:00", help="UK time of row 1")

    def handle(self, *args: Any, **options: Any) -> None:
        what = options["what"]
        if what == "sample":
            return self._sample(options)
        if what == "create":
            return self._create(options)
        event = _event(options["event"])
        if what == "import":
            return self._import(event, options["file"])
        if what == "token":
            token = do_new_token(event, None)
            self.stdout.write(f"New intake token for {event} (shown once):\n{token}")
            return
        self._summary(event)

    def _create(self, options: dict[str, Any]) -> None:
        forces = Force.objects.all()
        if options["force"]:
            forces = forces.filter(slug=options["force"])
        if forces.count() != 1:
            raise CommandError("name the force with --force SLUG (none or several match)")
        force = forces.get()
        accounts = list(event_accounts(force).filter(handle__in=options["account"]))
        unknown = set(options["account"]) - {a.handle for a in accounts}
        if unknown:
            raise CommandError(f"no account of {force.name} can post as: {', '.join(unknown)}")
        starts = _when(options["starts"], "--starts")
        try:
            event, token = do_create_event(
                force,
                name=options["name"],
                hashtag=options["hashtag"],
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=options["hours"]),
                accounts=accounts,
                pacing_minutes=options["pacing"],
                actor=None,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            f"Live event {event.pk}: {event} from {starts.astimezone(LONDON):%d %b %Y %H:%M}\n"
            f"Intake token (shown once; POST /live/{event.pk}/entries with "
            f"'Authorization: Bearer TOKEN'):\n{token}"
        )

    def _import(self, event: LiveEvent, path: Path) -> None:
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            with path.open(encoding="utf-8-sig", newline="") as lines:
                entries = read_log(lines, event)
        except LogError as exc:
            raise CommandError(f"{path} was not imported; nothing was written:\n{exc}") from exc
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=not sys.stdout.isatty(),
        ) as progress:
            task = progress.add_task(f"Redacting {path.name}", total=len(entries))

            def advance(done: int) -> None:
                progress.advance(task, done)
                if progress.tasks[0].finished:
                    progress.update(task, description="Numbering and saving")

            try:
                added = do_add_entries(
                    event,
                    entries,
                    "csv",
                    actor=None,
                    progress=advance,
                )
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            progress.update(task, description="Saved")
        numbers = (
            f" (numbers {added.created[0].number}-{added.created[-1].number})"
            if added.created
            else ""
        )
        self.stdout.write(
            f"{len(added.created)} entries added to {event}{numbers}, awaiting approval; "
            f"{len(added.duplicates)} already imported."
        )

    def _summary(self, event: LiveEvent) -> None:
        s = summarise(event)
        self.stdout.write(
            f"{event} ({event.starts_at.astimezone(LONDON):%d %b %H:%M} to "
            f"{event.ends_at.astimezone(LONDON):%d %b %H:%M})\n"
            f"entries {s.entries}; posts sent {s.sent}, pending {s.pending} "
            f"(awaiting approval {s.awaiting}), failed {s.failed}, held back {s.held_back}; "
            f"replies {s.replies}"
        )
        for change in s.followers:
            self.stdout.write(f"followers {change.account}: {change.first} -> {change.last}")

    def _sample(self, options: dict[str, Any]) -> None:
        starts = _when(options["starts"], "--starts").astimezone(LONDON).replace(tzinfo=None)
        out = io.StringIO()
        write_csv(generate(options["rows"], options["seed"], starts), out)
        self.stdout.write(out.getvalue(), ending="")


def _when(value: str, option: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option}: {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LONDON)
    return moment.astimezone(dt.UTC)


def _event(reference: str) -> LiveEvent:
    if reference.isdigit():
        event = LiveEvent.objects.filter(pk=int(reference)).first()
    else:
        tag = reference if reference.startswith("#") else f"#{reference}"
        matches = list(LiveEvent.objects.filter(hashtag__iexact=tag)[:2])
        if len(matches) > 1:
            raise CommandError(f"several events use {tag}: give the event's number")
        event = matches[0] if matches else None
    if event is None:
        raise CommandError(f"no live event {reference!r}")
    return event
