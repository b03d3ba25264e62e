"""How soon a worker reads its first message after it starts.

Makes a throw-away home (migrated, the demo force seeded), stores one message the way a
network delivery is stored (inbox.actions.do_receive, which queues its triage), then
starts `beatdesk worker` (the database queue) and times, from the moment the process is
started, until the message has its triage, and until the stronger abuse model has read
it again (the message is one the fast abuse reading is unsure of, so the worker loads the
encoder's ONNX export for it). Each run starts a new worker for a new message.

    .venv/bin/python benchmarks/worker_first_read.py [--runs N] [-- WORKER ARGS]
    /tmp/lightenv/bin/python benchmarks/worker_first_read.py   # an environment from `pip install .`

Arguments after `--` go to `beatdesk worker` (for instance `-- --no-startup-delay`: the
database worker otherwise waits a random 0-1 s before its first look at the queue, so
that workers started together do not all poll at once).

Prints one line per run, then one JSON line: runs, first_read_s and abuse_reread_s
(each run's, and their median), the worker's arguments, the python it ran with and
whether torch was installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import QuerySet

# Most of a police force's abuse is plain; this one sits in the fast reading's uncertain band.
TEXT = "@WestmerePolice what a joke of a police force {n}"
TIMEOUT_S = 120.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("worker_args", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    runs = options.runs
    worker_args = [a for a in options.worker_args if a != "--"]

    home = tempfile.mkdtemp(prefix="beatdesk-first-read-")
    os.environ["BEATDESK_HOME"] = home
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beatdesk.settings")
    os.environ.pop("BEATDESK_TASKS", None)  # the database queue: no services needed
    import django

    django.setup()
    from django.core.management import call_command

    from beatdesk.demo.seed import seed
    from beatdesk.inbox.actions import do_receive
    from beatdesk.networks.models import NetworkAccount
    from beatdesk.triage.models import Triage

    call_command("migrate", verbosity=0)
    account = NetworkAccount.objects.get(force=seed(), kind="replay")
    worker = Path(sys.executable).with_name("beatdesk")
    print(f"bench home: {home}", file=sys.stderr)

    first_read, reread = [], []
    for n in range(runs):
        body = json.dumps(
            {
                "id": f"first-read-{time.time_ns()}",
                "network": "x",
                "author": "@resident1",
                "created_at": "2026-03-14T12:00:00Z",
                "text": TEXT.format(n=n),
                "account": "@WestmerePolice",
            }
        )
        message_id = do_receive(account, body).message_id
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(worker), "worker", *worker_args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            triage = Triage.objects.filter(message_id=message_id)
            first_read.append(_wait(triage, process) - started)
            reread_at = _wait(triage.filter(abuse_reread_at__isnull=False), process)
            reread.append(reread_at - started)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        print(
            f"run {n + 1}: first read {first_read[-1]:.2f} s, "
            f"read again by the encoder {reread[-1]:.2f} s after the worker started",
            file=sys.stderr,
        )
    print(
        json.dumps(
            {
                "runs": runs,
                "first_read_s": [round(s, 2) for s in first_read],
                "first_read_median_s": round(statistics.median(first_read), 2),
                "abuse_reread_s": [round(s, 2) for s in reread],
                "abuse_reread_median_s": round(statistics.median(reread), 2),
                "worker_args": worker_args,
                "python": sys.executable,
                "torch_installed": importlib.util.find_spec("torch") is not None,
                "home": home,
            }
        )
    )


def _wait(rows: QuerySet[Any], process: subprocess.Popen[bytes]) -> float:
    """When these rows exist (polled every 20 ms)."""
    deadline = time.perf_counter() + TIMEOUT_S
    while not rows.exists():
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise SystemExit(f"the worker stopped: {error[-2000:]}")
        if time.perf_counter() > deadline:
            raise SystemExit(f"nothing read within {TIMEOUT_S:.0f} s")
        time.sleep(0.02)
    return time.perf_counter()


if __name__ == "__main__":
    main()
