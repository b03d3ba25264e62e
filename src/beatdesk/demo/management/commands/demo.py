"""`beatdesk demo`: a working desk with a day of traffic, in one command.

It keeps its own database under var/demo (fresh each run unless --keep), seeds the
fictional Westmere Police, then runs the web server, the background worker and the
replay of the built-in scenario as child processes until Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from importlib.resources import files
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from beatdesk.accounts.models import Role
from beatdesk.demo.seed import DEMO_PASSWORD, USERS
from beatdesk.inbox.work import do_auto_assign, do_escalate_breaches, wake_snoozed
from beatdesk.monitoring.models import Operation
from beatdesk.networks.replay.client import read_file
from beatdesk.publishing.tasks import send_due_posts

SCENARIO = "scenario.jsonl"
DAY_IN_TEN_MINUTES = 24 * 60 / 10
CARNIVAL = "carnival.jsonl"
CARNIVAL_WATCH = "Carnival hashtag"


def scenario_path() -> Path:
    return Path(str(files("beatdesk.demo").joinpath(SCENARIO)))


def carnival_path() -> Path:
    return Path(str(files("beatdesk.demo").joinpath(CARNIVAL)))


def carnival_delay(speed: float) -> float:
    """Seconds after the scenario starts at which the carnival's first post is due, so both
    replays keep the same clock of the day."""
    first = read_file(carnival_path())[0].created_at
    day_starts = read_file(scenario_path())[0].created_at
    if first is None or day_starts is None:
        return 0.0
    return max(0.0, (first - day_starts).total_seconds() / speed)


def replay_carnival(me: list[str], speed: float, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The carnival's public posts into Op Lantern's watch. They keep their own times:
    spikes are measured in the posts' time, and a day played in ten minutes of wall clock
    would never build the half hour of baseline a spike needs."""
    return subprocess.Popen(
        [
            *me,
            "replay",
            str(carnival_path()),
            "--watch",
            CARNIVAL_WATCH,
            "--speed",
            str(speed),
            "--no-progress",
        ],
        env=env,
    )


class Command(BaseCommand):
    help = "Run a demo desk on http://127.0.0.1:8000 with live replayed traffic."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("BEATDESK_PORT", 8000)))
        parser.add_argument(
            "--speed",
            type=float,
            default=DAY_IN_TEN_MINUTES,
            help="replay speed (default: a day in about ten minutes)",
        )
        parser.add_argument("--keep", action="store_true", help="keep the previous demo database")
        parser.add_argument("--no-replay", action="store_true", help="serve without traffic")
        parser.add_argument(
            "--checkpoint-every",
            type=float,
            default=30.0,
            help="seconds between audit checkpoints and response-target checks",
        )

    def _fresh(self) -> None:
        db = Path(settings.DATABASES["default"]["NAME"])
        if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        # A new chain needs new checkpoints; the signing key stays.
        (Path(settings.AUDIT_DIR) / "checkpoints.jsonl").unlink(missing_ok=True)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError("run the demo as `beatdesk demo` (it uses its own home, var/demo)")
        if not options["keep"]:
            self._fresh()
        self.stdout.write("Preparing the demo database…")
        call_command("migrate", verbosity=0)
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        shutil.rmtree(Path(settings.HOME) / "static", ignore_errors=True)

        me = [sys.executable, "-m", "beatdesk"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        children = [
            subprocess.Popen([*me, "serve", "--port", str(options["port"])], env=env),
            subprocess.Popen(
                [*me, "worker", "--interval", "0.2", "--no-startup-delay", "--verbosity", "0"],
                env=env,
            ),
        ]
        if not options["no_replay"]:
            children.append(
                subprocess.Popen(
                    [
                        *me,
                        "replay",
                        str(scenario_path()),
                        "--speed",
                        str(options["speed"]),
                        "--rebase-time",
                    ],
                    env=env,
                )
            )
        carnival_due = (
            None if options["no_replay"] else time.monotonic() + carnival_delay(options["speed"])
        )
        self._banner(options["port"], carnival=carnival_due is not None)
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        next_checkpoint = time.monotonic() + options["checkpoint_every"]
        try:
            while not stopping:
                time.sleep(0.5)
                if carnival_due is not None and time.monotonic() >= carnival_due:
                    children.append(replay_carnival(me, options["speed"], env))
                    carnival_due = None
                if time.monotonic() >= next_checkpoint:
                    call_command("audit", "checkpoint", stdout=open(os.devnull, "w"))  # noqa: SIM115

                    wake_snoozed()

                    do_escalate_breaches()

                    do_auto_assign()

                    send_due_posts()
                    next_checkpoint = time.monotonic() + options["checkpoint_every"]
                if any(c.poll() not in (None, 0) for c in children[:2]):
                    raise CommandError("the web server or worker stopped; see the messages above")
        except KeyboardInterrupt:
            pass
        finally:
            self.stdout.write("\nStopping the demo…")
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 10
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
            call_command("audit", "checkpoint", stdout=open(os.devnull, "w"))  # noqa: SIM115
            self.stdout.write(
                f"Demo stopped. Its database stays in {settings.HOME} until the next run."
            )

    def _banner(self, port: int, *, carnival: bool) -> None:
        lines = [
            "",
            f"  beatdesk demo — Westmere Police desk on http://127.0.0.1:{port}/",
            "",
            f"  Sign in as any of these (password: {DEMO_PASSWORD}):",
        ]
        lines += [f"    {u.username:<14} {Role(u.role).label}" for u in USERS]
        lines += [
            "",
            "  The two-factor page shows the current code (demo only).",
            "  Traffic: a day in Westmere, replayed in about ten minutes.  Ctrl-C stops it all.",
        ]

        lantern = Operation.objects.filter(watches__name=CARNIVAL_WATCH).first()
        if carnival and lantern is not None:
            board = f"http://127.0.0.1:{port}/stories/operations/{lantern.pk}/board/"
            lines.append(f"  Carnival posts (from 07:12 of the day) fill {lantern.name}: {board}")
        lines.append("")
        self.stdout.write("\n".join(lines))
