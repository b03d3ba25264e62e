"""The demo, end to end, in Debian's chromium: `beatdesk demo` brings the desk up with live
traffic; a desk operator signs in, passes the second factor, watches messages arrive without
reloading, opens one, and the audit log then holds that consultation."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from beatdesk.demo.seed import DEMO_PASSWORD
from beatdesk.testing.processes import Installation

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("BEATDESK_TEST_ARTIFACTS", "test-artifacts"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (loopback only)
                return
        except urllib.error.HTTPError:
            return  # it answered: /healthz says 503 until a worker and scheduler beat
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout}s")


@pytest.fixture
def demo(tmp_path):
    inst = Installation(tmp_path / "demo-home", None)
    port = free_port()
    # A day in about 80 seconds: traffic keeps arriving while the browser works.
    proc = inst.start("demo", "--port", str(port), "--speed", "1100", "--checkpoint-every", "5")
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        yield inst, f"http://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except Exception:
                proc.kill()


def audit_rows(db: Path, action: str) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT actor_label, object_id FROM audit_auditevent WHERE action = ?", [action]
        ).fetchall()


def test_operator_sees_live_traffic_and_opening_a_message_is_audited(demo):
    from playwright.sync_api import expect, sync_playwright

    inst, base, proc = demo
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/")
        page.get_by_label("Username").fill("dana.desk")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
        code = page.locator("[data-demo-code]").inner_text()
        page.get_by_label("Six-digit code").fill(code)
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name="Inbox")).to_be_visible()

        rows = page.locator("tr[data-message-id]")
        expect(rows.first).to_be_visible(timeout=30_000)
        first_seen = rows.first.get_attribute("data-message-id")
        page.evaluate("window.__sameDocument = true")
        # New traffic must appear with no reload: the same document, a newer top row.
        page.wait_for_function(
            "id => { const r = document.querySelector('tr[data-message-id]');"
            " return r && r.dataset.messageId !== id; }",
            arg=first_seen,
            timeout=30_000,
        )
        assert page.evaluate("window.__sameDocument") is True
        status = inst.status()
        assert status["messages"] > 0
        page.screenshot(path=str(ARTIFACTS / "demo-inbox.png"), full_page=False)

        rows.first.locator("a").click()
        expect(page.get_by_role("heading", name="Conversation")).to_be_visible()
        opened = page.url.rstrip("/").rsplit("/", 1)[-1]
        page.get_by_text("Raw payload").click()
        expect(page.locator("pre.raw")).to_contain_text('"text"')
        page.screenshot(path=str(ARTIFACTS / "demo-message.png"), full_page=True)
        browser.close()

    views = audit_rows(inst.sqlite_path, "message.view")
    assert any(object_id == opened for _, object_id in views), views
    later = inst.status()
    assert later["messages"] >= status["messages"]
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "Demo stopped" in out and "Traceback" not in out
    verified = inst.run("audit", "verify")
    assert "audit chain OK" in verified.stdout and "checkpoint(s) match" in verified.stdout
