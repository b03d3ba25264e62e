"""Audit writes per second with 1, 2 and 4 concurrent writer processes, on PostgreSQL.

Each writer is a process of its own that commits transactions, each recording one audit
event (audit.actions.record_system) and then doing `--work-ms` of the rest of its change
inside the same transaction (pg_sleep: the time a real change, such as storing a message,
keeps its transaction open). With the old global lock every writer waited for the lock
holder's commit; with unsealed appends and a batch sealer they do not. After each run
`beatdesk audit verify --json` must pass with every event chained.

    DATABASE_URL=postgresql://… python benchmarks/audit_writers.py [--writers 1,2,4]
        [--seconds 5] [--work-ms 2]

Each run gets a fresh database on that server (dropped after). To measure the code before
this change, run the same file with PYTHONPATH pointing at the older source tree.
Prints one line per writer count, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(seconds: float, start_at: float, work_ms: float) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beatdesk.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from beatdesk.audit.actions import Category, record_system

    connection.ensure_connection()
    time.sleep(max(0.0, start_at - time.time()))
    done, end = 0, start_at + seconds
    while time.time() < end:
        with transaction.atomic():
            record_system("bench", Category.COLLECTION, "bench.write", justification=str(done))
            if work_ms:
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_sleep(%s)", [work_ms / 1000])
        done += 1
    print(done)


def run(writers: int, seconds: float, work_ms: float) -> dict[str, float | int | bool]:
    from beatdesk.testing.processes import installation

    with tempfile.TemporaryDirectory() as tmp, installation(Path(tmp)) as inst:
        inst.migrate()
        start_at = time.time() + 4.0  # every writer has started Django by then
        args = [sys.executable, __file__, "--child", str(seconds), str(start_at), str(work_ms)]
        procs = [
            subprocess.Popen(args, env=inst.env, stdout=subprocess.PIPE, text=True)
            for _ in range(writers)
        ]
        counts = [int(p.communicate(timeout=seconds + 120)[0].strip()) for p in procs]
        report = json.loads(inst.run("audit", "verify", "--json").stdout.strip().splitlines()[-1])
        total = sum(counts)
        return {
            "writers": writers,
            "events": total,
            "writes_per_s": round(total / seconds, 1),
            "verified": bool(report["ok"]) and report["checked"] == total,
        }


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", default="1,2,4")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--work-ms", type=float, default=2.0)
    options = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL server (scripts/with-postgres.sh does)")
    results = []
    for writers in (int(w) for w in options.writers.split(",")):
        result = run(writers, options.seconds, options.work_ms)
        print(
            f"{writers} writer(s): {result['writes_per_s']} audit writes/s "
            f"({result['events']} events, verified: {result['verified']})",
            flush=True,
        )
        results.append(result)
    print(json.dumps({"work_ms": options.work_ms, "seconds": options.seconds, "runs": results}))


if __name__ == "__main__":
    main()
