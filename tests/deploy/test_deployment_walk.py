"""docs/deployment.md walked on one machine: PostgreSQL, Redis, `beatdesk migrate`, gunicorn
with deploy/gunicorn.conf.py, two `beatdesk worker` processes and the scheduler (or the
poller where there is no scheduler), the public intake over real HTTP, every message
triaged and routed, and `beatdesk audit verify` passes."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dj_database_url
import httpx
import psycopg
import pytest
from django.core.management import get_commands

from beatdesk.inbox.bench import stop_processes
from beatdesk.testing.processes import installation

REPO = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="the deployment document's path is PostgreSQL with Redis",
    ),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(what: str, done: Callable[[], bool], procs: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + 90
    while not done():
        for proc in procs:
            if proc.poll() is not None:
                out = proc.stdout.read() if proc.stdout else ""
                raise AssertionError(f"{proc.args} exited {proc.returncode} {what}:\n{out}")
        assert time.monotonic() < deadline, f"timed out {what}"
        time.sleep(0.5)


@contextmanager
def running(procs: list[subprocess.Popen[str]]) -> Iterator[list[subprocess.Popen[str]]]:
    try:
        yield procs
    finally:
        stop_processes(procs)


def health(url: str) -> int:
    """/healthz's status code; 0 while nothing answers."""
    try:
        return httpx.get(url, timeout=10).status_code
    except httpx.TransportError:
        return 0


def routed_and_triaged(database_url: str) -> int:
    cfg = dj_database_url.parse(database_url)
    with psycopg.connect(
        host=cfg["HOST"], port=cfg["PORT"], user=cfg["USER"], dbname=cfg["NAME"]
    ) as conn:
        row = conn.execute(
            "SELECT count(*) FROM inbox_message m JOIN triage_triage t ON t.message_id = m.id"
            " WHERE m.network = 'webform' AND m.routed_at IS NOT NULL"
        ).fetchone()
    return int(row[0]) if row else 0


def test_the_documented_installation_takes_messages_over_http_to_triaged(tmp_path: Path):
    redis_port, web_port = free_port(), free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    with running([redis]), installation(tmp_path / "home") as inst:
        # /etc/beatdesk/beatdesk.env, as the document has it (no TLS on loopback).
        inst.env.update(
            BEATDESK_TASKS="rq",
            REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
            BEATDESK_SECRET_KEY="a-test-secret-key-" + "x" * 40,
            BEATDESK_ALLOWED_HOSTS="127.0.0.1",
            BEATDESK_BIND=f"127.0.0.1:{web_port}",
            BEATDESK_WEB_PROCESSES="2",
        )
        inst.run("migrate", "--no-input", "-v0")
        inst.run("seed_demo")  # a force: its teams, routing rules and web form
        periodic = "scheduler" if "scheduler" in get_commands() else "poll"
        web = subprocess.Popen(
            [GUNICORN, "-c", REPO / "deploy" / "gunicorn.conf.py", "beatdesk.wsgi:application"],
            env=inst.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        procs = [web, inst.start("worker"), inst.start("worker"), inst.start(periodic)]
        with running(procs):
            base = f"http://127.0.0.1:{web_port}"
            # The web answers (503 until the workers and the scheduler have beaten).
            wait_for("starting the web", lambda: health(f"{base}/healthz") != 0, procs)
            texts = [
                "My bike was stolen from outside the library on Tuesday",
                "Thank you to the officers at the carnival, brilliant job",
                "Someone keeps parking across my drive on Elm Road every night",
                "How do I report a lost wallet?",
                "There is a man with a knife outside the Co-op on High Street now",
            ]
            for text in texts:
                answer = httpx.post(f"{base}/api/intake/", json={"message": text}, timeout=30)
                assert answer.status_code == 201, answer.text
                assert answer.json()["reference"]
            wait_for(
                "triaging the messages",
                lambda: routed_and_triaged(inst.env["DATABASE_URL"]) == len(texts),
                procs,
            )
            report = json.loads(
                inst.run("audit", "verify", "--json").stdout.strip().splitlines()[-1]
            )
            assert report["ok"] is True and report["unsealed"] == 0
            assert inst.status()["messages"] == len(texts)
            if periodic == "scheduler":  # every part the health check checks is running
                wait_for("getting healthy", lambda: health(f"{base}/healthz") == 200, procs)
