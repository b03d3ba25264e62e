"""In a real browser: a knife message arrives, is graded 1 within moments, the alert shows
at the top of the desk operator's screen, and the message page shows the reasons and the
999 reply drafted; the thank-you goes to its area's team with the reason shown."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from beatdesk.demo.seed import DEMO_PASSWORD
from beatdesk.demo.tests.test_demo_browser import CHROMIUM, free_port, wait_for
from beatdesk.testing.processes import Installation

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KNIFE = {
    "id": "x-knife",
    "network": "x",
    "author": "@kyle_dr4",
    "text": "there's a man with a knife outside the Spar on Dudley Rd hurry!!",
    "account": "@WMP_DudleyRd",
}
NAN = {
    "id": "x-nan",
    "network": "x",
    "author": "@mandy_trent",
    "text": "massive thanks to the officers who found my nan last night",
    "account": "@WMP_HollinsPark",
}


@pytest.fixture
def desk(tmp_path):
    inst = Installation(tmp_path / "home", None)
    inst.env["BEATDESK_DEMO"] = "1"  # the code page shows the current code
    inst.migrate()
    inst.run("seed_demo")
    port = free_port()
    server = inst.start("serve", "--port", str(port))
    worker = inst.start("worker", "--interval", "0.1", "--no-startup-delay")
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        yield inst, f"http://127.0.0.1:{port}"
    finally:
        for proc in (server, worker):
            proc.terminate()
            proc.wait(timeout=20)


def test_an_emergency_alerts_the_desk_and_a_thank_you_reaches_its_area(desk, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    inst, base = desk
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.goto(base + "/")
        page.get_by_label("Username").fill("dana.desk")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        code = page.locator("[data-demo-code]").inner_text()
        page.get_by_label("Six-digit code").fill(code)
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name="Inbox")).to_be_visible()

        feed = tmp_path / "two.jsonl"
        feed.write_text(json.dumps(KNIFE) + "\n" + json.dumps(NAN) + "\n")
        sent = time.monotonic()
        inst.run("replay", str(feed), "--speed", "1000", "--no-progress")
        alert = page.locator("[role=alert][data-alert-id]")
        expect(alert).to_contain_text("knife outside the Spar", timeout=15_000)
        seen_after = time.monotonic() - sent
        with sqlite3.connect(inst.sqlite_path) as db:
            received, routed = db.execute(
                "SELECT received_at, routed_at FROM inbox_message WHERE external_id = 'x-knife'"
            ).fetchone()
        print(f"knife message stored {received}, routed {routed}; alert seen in {seen_after:.1f}s")

        alert.get_by_role("link").click()
        triage = page.locator("#triage")
        expect(triage).to_contain_text("Grade 1")
        expect(triage).to_contain_text("Emergency")
        expect(triage).to_contain_text("knife")
        expect(page.locator("[data-reply-status=draft]")).to_contain_text("999")
        page.screenshot(path=str(tmp_path / "alert.png"))

        page.goto(base + "/?contact_type=compliment")
        row = page.locator("tr[data-message-id]", has_text="found my nan")
        expect(row).to_contain_text("Hollins Park NPT")
        row.locator("a").click()
        expect(page.locator("#triage")).to_contain_text("Compliment")
        expect(page.get_by_text("Hollins Park", exact=False).first).to_be_visible()
        browser.close()
