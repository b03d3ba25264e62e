"""Real processes: a webhook pushed twice at once stores one message; a poller killed with
SIGKILL in the middle of a fetch loses nothing and duplicates nothing when restarted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import signal
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from beatdesk.demo.tests.test_demo_browser import free_port, wait_for
from beatdesk.testing.fakenet import Request, Response
from beatdesk.testing.processes import installation

pytestmark = pytest.mark.slow
X_FIXTURES = Path(__file__).resolve().parent.parent / "x" / "fixtures"
SECRET = "consumer-secret-example"


def set_credentials(inst, handle: str, creds: dict) -> None:
    code = (
        "from beatdesk.networks.models import NetworkAccount as A;"
        f"a=A.objects.get(handle={handle!r});a.set_credentials({creds!r});a.save()"
    )
    inst.run("shell", "-c", code)


def account_id(inst, handle: str) -> int:
    out = inst.run(
        "shell",
        "-c",
        "from beatdesk.networks.models import NetworkAccount as A;"
        f"print(A.objects.get(handle={handle!r}).pk)",
    ).stdout
    return int(out.strip().splitlines()[-1])


def test_the_same_webhook_pushed_concurrently_stores_one_message(tmp_path):
    with installation(tmp_path) as inst:
        inst.migrate()
        inst.run("seed_demo")
        set_credentials(
            inst, "@WestmerePolice", {"consumer_secret": SECRET, "user_id": "123456789"}
        )
        pk = account_id(inst, "@WestmerePolice")
        port = free_port()
        server = inst.start("serve", "--port", str(port))
        try:
            wait_for(f"http://127.0.0.1:{port}/healthz")
            body = (X_FIXTURES / "webhook_tweet_create.json").read_bytes()
            digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
            signature = "sha256=" + base64.b64encode(digest).decode()
            answers: list[int] = []

            def push() -> None:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/hooks/x/{pk}/",
                    data=body,
                    method="POST",
                    headers={
                        "Content-Type": "application/json",
                        "x-twitter-webhooks-signature": signature,
                    },
                )
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    answers.append(json.loads(response.read())["received"])

            threads = [threading.Thread(target=push) for _ in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            server.terminate()
            server.wait(timeout=20)
        assert len(answers) == 6 and len(set(answers)) == 1
        assert inst.status()["messages"] == answers[0]


def test_a_poller_killed_mid_fetch_loses_nothing_and_duplicates_nothing(tmp_path, fake_network):
    page1 = json.loads((X_FIXTURES / "mentions_page1.json").read_text())
    page2 = json.loads((X_FIXTURES / "mentions_page2.json").read_text())
    total = len(page1["data"]) + len(page2["data"])
    stall = {"first": True}

    def mentions(request: Request) -> Response:
        if request.param("since_id"):
            return Response(200, {"meta": {"result_count": 0}})
        if request.param("pagination_token"):
            if stall["first"]:
                stall["first"] = False
                time.sleep(1.5)  # the poller is killed while it waits for page 2
            return Response(200, page2)
        return Response(200, page1)

    fake_network.route("GET", "/2/users/123456789/mentions", mentions)
    with installation(tmp_path) as inst:
        inst.migrate()
        inst.run("seed_demo")
        set_credentials(
            inst,
            "@WestmerePolice",
            {"api_base": fake_network.base_url, "bearer_token": "t", "user_id": "123456789"},
        )
        poller = inst.start("poll", "--once")
        deadline = time.monotonic() + 60
        while not any(r.param("pagination_token") for r in fake_network.requests):
            assert time.monotonic() < deadline, "the poller never asked for page 2"
            time.sleep(0.05)
        poller.send_signal(signal.SIGKILL)
        poller.wait(timeout=10)
        assert inst.status()["messages"] == 0  # nothing half-stored
        inst.run("poll", "--once")
        assert inst.status()["messages"] == total
        inst.run("poll", "--once")
        assert inst.status()["messages"] == total
        inst.run("audit", "verify")
