"""The `beatdesk` command.

beatdesk setup                a new installation: the tables, keys, force and first administrator
beatdesk demo                 a demo desk with live traffic on http://127.0.0.1:8000
beatdesk serve                the desk's web server
beatdesk worker               the background worker (database queue, or RQ with BEATDESK_TASKS=rq)
beatdesk replay FILE          play a JSONL/CSV file of posts as live inbound traffic
beatdesk status --json        counts, for operators and scripts
beatdesk audit verify|checkpoint
beatdesk migrate, createsuperuser, … (any Django management command)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from beatdesk.core.outage import first_line, not_migrated, patiently, unreachable
from beatdesk.core.queues import QUEUES
from beatdesk.core.tasks import backend_errors

if TYPE_CHECKING:
    from beatdesk.operations.sweep import Sweeper


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beatdesk.settings")
    if args and args[0] == "demo":
        # The demo keeps its own home so it never touches a real installation's data.
        os.environ.setdefault("BEATDESK_HOME", os.path.join(os.getcwd(), "var", "demo"))
        os.environ["BEATDESK_DEMO"] = "1"
    sweeper = None
    is_worker, worker_id = bool(args) and args[0] == "worker", ""
    if is_worker:
        worker_id = _option(
            args, "--worker-id" if os.environ.get("BEATDESK_TASKS") != "rq" else "--name"
        )
        if os.environ.get("BEATDESK_TASKS") == "rq":
            # RQ's worker runs django.tasks jobs only with the backend's job class. Jobs run
            # in the worker's own process: a forked work-horse would inherit the language
            # detector's threads and hang, and would reload the models for every job.
            args = [
                "rqworker",
                "--job-class",
                "django_tasks_rq.Job",
                "--worker-class",
                "beatdesk.core.rqqueue.Worker",
                *([] if "--name" in args else ["--name", worker_id]),
                *(args[1:] or QUEUES),  # served in this order
            ]
        else:
            args = ["db_worker", *args[1:]]
            if "--queue-name" not in args:
                args += ["--queue-name", ",".join(QUEUES)]  # in priority order (PRIORITY)
            if "--worker-id" not in args:
                args += ["--worker-id", worker_id]
    if not args or args[0] in {"-h", "--help", "help"}:
        print(__doc__)
        if not args:
            return
    from django.core.management import execute_from_command_line

    try:
        if is_worker and not {"-h", "--help"} & set(args):
            _warm_up()
            sweeper = _start_sweeper(worker_id)
        if sweeper is None:
            execute_from_command_line(["beatdesk", *args])
        else:
            _supervise(lambda: execute_from_command_line(["beatdesk", *args]))
    except DatabaseError as exc:
        if not (not_migrated(exc) or unreachable(exc)):
            raise
        sys.exit(_database_problem(exc))
    except ImproperlyConfigured as exc:  # a setting or a key file that is wrong
        sys.exit(f"beatdesk: {exc}")
    finally:
        if sweeper is not None:
            sweeper.stop()


def _supervise(work: Callable[[], None], *, longest_wait: float = 30.0) -> None:
    """Run the worker's loop, and run it again when Redis or the database goes away.

    RQ's worker exits (status 1) when Redis is unreachable and the database queue's worker
    raises when PostgreSQL stops; either way the loop restarts after a growing wait (1 s,
    2 s, … up to `longest_wait`), with Django's connections closed so the next round opens
    fresh ones. A clean return (a requested stop) or Ctrl+C ends it.
    """
    import logging

    from django.db import connections

    logger = logging.getLogger("beatdesk.worker")
    wait = 1.0
    while True:
        started = time.monotonic()
        try:
            work()
            return
        except SystemExit as exc:
            if exc.code in (None, 0):
                return
            reason = f"exited with status {exc.code}"
        except backend_errors() as exc:
            reason = f"{type(exc).__name__}: {exc}"
        if time.monotonic() - started > 60:
            wait = 1.0  # it had been working: a new outage starts the waits again
        logger.warning("worker loop stopped (%s); starting again in %g s", reason, wait)
        for connection in connections.all(initialized_only=True):
            with contextlib.suppress(Exception):
                connection.close()
        time.sleep(min(wait, longest_wait))
        wait = min(wait * 2, longest_wait)


def _database_problem(exc: DatabaseError) -> str:
    """What a command says, instead of a traceback, when the database is not there."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    where = (
        f"PostgreSQL at {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db.get('NAME')}"
        if "postgresql" in db["ENGINE"]
        else f"SQLite at {db['NAME']}"
    )
    if not_migrated(exc):
        return f"beatdesk: the database ({where}) has no tables yet: run `beatdesk migrate`"
    return (
        f"beatdesk: cannot reach the database ({where}): {first_line(exc)}\n"
        "Is the server running, and are DATABASE_URL and its password right?"
    )


def _option(args: list[str], name: str) -> str:
    """The value given for a worker's id, else a new one (the sweeper knows it by its id)."""
    if name in args and args.index(name) + 1 < len(args):
        return args[args.index(name) + 1]
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{secrets.token_hex(4)}"


def _start_sweeper(worker_id: str) -> Sweeper:
    """The worker's periodic loop: heartbeats, and the sweep of anything left unread."""
    from beatdesk.operations.sweep import start_sweeper  # local import: models, after setup

    return start_sweeper(worker_id, os.environ.get("BEATDESK_TASKS") or "database")


def _warm_up() -> None:
    """Load the triage models before the first message, so it is read within a second."""
    import django

    django.setup()
    from beatdesk.triage.engine import read_many  # local import: models, after setup

    try:
        read_many(["warming up"])
    except FileNotFoundError as exc:  # no model: the worker still runs other work
        print(f"triage models not loaded: {exc}", file=sys.stderr)
    from beatdesk.publishing.delivery import recover_stuck_posts  # local import: after setup

    # Posts a worker that died left half-sent; a worker started while the database is down
    # waits for it here (the scheduler's recover_posts job does the same later).
    patiently(recover_stuck_posts, "recovering half-sent posts")


if __name__ == "__main__":
    main()
