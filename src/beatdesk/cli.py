"""The `beatdesk` command.

beatdesk demo                 a demo desk with live traffic on http://127.0.0.1:8000
beatdesk serve                the desk's web server
beatdesk worker               the background worker (database queue, or RQ with BEATDESK_TASKS=rq)
beatdesk replay FILE          play a JSONL/CSV file of posts as live inbound traffic
beatdesk status --json        counts, for operators and scripts
beatdesk audit verify|checkpoint
beatdesk migrate, createsuperuser, … (any Django management command)
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beatdesk.settings")
    if args and args[0] == "demo":
        # The demo keeps its own home so it never touches a real installation's data.
        os.environ.setdefault("BEATDESK_HOME", os.path.join(os.getcwd(), "var", "demo"))
        os.environ["BEATDESK_DEMO"] = "1"
    if args and args[0] == "worker":
        if os.environ.get("BEATDESK_TASKS") == "rq":
            # RQ's worker runs django.tasks jobs only with the backend's job class. Jobs run
            # in the worker's own process: a forked work-horse would inherit the language
            # detector's threads and hang, and would reload the models for every job.
            args = [
                "rqworker",
                "--job-class",
                "django_tasks_rq.Job",
                "--worker-class",
                "rq.worker.SimpleWorker",
                *(args[1:] or ["default"]),
            ]
        else:
            args = ["db_worker", *args[1:]]
        _warm_up()
    if not args or args[0] in {"-h", "--help", "help"}:
        print(__doc__)
        if not args:
            return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["beatdesk", *args])


def _warm_up() -> None:
    """Load the triage models before the first message, so it is read within a second."""
    import django

    django.setup()
    from beatdesk.triage.engine import read_many

    try:
        read_many(["warming up"])
    except FileNotFoundError as exc:  # no model: the worker still runs other work
        print(f"triage models not loaded: {exc}", file=sys.stderr)
    from beatdesk.publishing.delivery import recover_stuck_posts

    recover_stuck_posts()  # posts a worker that died left half-sent


if __name__ == "__main__":
    main()
