"""A desk operator's shift in Debian's chromium: take the emergency first, reply with a
template, open a case from two messages, close the chatter in bulk, hand over; and a
supervisor sees a missed response target escalate to them."""

from __future__ import annotations

import json
import re

import pytest

from beatdesk.demo.seed import DEMO_PASSWORD
from beatdesk.demo.tests.test_demo_browser import CHROMIUM, free_port, wait_for
from beatdesk.testing.processes import Installation

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TRAFFIC = [
    ("knife", "there's a man with a knife outside the Spar on Dudley Rd hurry!!", "@WMP_DudleyRd"),
    (
        "bike1",
        "my bike was nicked from outside the library on dudley rd last night",
        "@WestmerePolice",
    ),
    (
        "bike2",
        "someone cut the lock and took my bike from the station racks this morning",
        "@WestmerePolice",
    ),
    ("chat1", "haha nice one lads", "@WestmerePolice"),
    ("chat2", "who cares tbh", "@WestmerePolice"),
    (
        "question",
        "what time does the pcso surgery start in abbeyfield on saturday?",
        "@WestmerePolice",
    ),
]


def sign_in(browser, base: str, username: str):
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(base + "/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Six-digit code").fill(page.locator("[data-demo-code]").inner_text())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    return page


@pytest.fixture
def desk(tmp_path):
    inst = Installation(tmp_path / "home", None)
    inst.env["BEATDESK_DEMO"] = "1"
    for job in ("ESCALATE", "AUTO_ASSIGN", "WAKE_SNOOZED"):  # each poll round, as before
        inst.env[f"BEATDESK_EVERY_{job}_SECONDS"] = "1"
    inst.migrate()
    inst.run("seed_demo")
    # Tight targets so a message left alone misses its target during the test.
    inst.run(
        "shell",
        "-c",
        "from beatdesk.inbox.models import ResponseTarget as T;"
        "T.objects.exclude(grade=1).update(minutes=0)",
    )
    port = free_port()
    procs = [
        inst.start("serve", "--port", str(port)),
        inst.start("worker", "--interval", "0.1", "--no-startup-delay"),
        inst.start("poll", "--every", "1"),
    ]
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        feed = tmp_path / "shift.jsonl"
        feed.write_text(
            "".join(
                json.dumps(
                    {"id": i, "network": "x", "author": f"@{i}_resident", "text": t, "account": a}
                )
                + "\n"
                for i, t, a in TRAFFIC
            )
        )
        inst.run("replay", str(feed), "--fast", "--no-progress")
        yield inst, f"http://127.0.0.1:{port}"
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=20)


def test_an_operator_works_a_shift_and_a_supervisor_sees_a_missed_target(desk, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    inst, base = desk
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = sign_in(browser, base, "dana.desk")

        # The emergency is first in the unassigned queue; take it.
        page.goto(base + "/?queue=unassigned")
        first = page.locator("tr[data-message-id]").first
        expect(first).to_have_attribute("data-grade", "1", timeout=20_000)
        expect(first).to_contain_text("knife")
        first.locator("a").click()
        # The keys work once the message page has loaded (its script is at the end).
        page.wait_for_url(re.compile(r"/messages/\d+/$"))
        page.keyboard.press("c")
        expect(page.locator("#work")).to_contain_text("In hand")

        # Reply with a template.
        page.locator("#id_template").select_option(label="Passed to the local team")
        expect(page.locator("#id_text")).to_have_value(re.compile("neighbourhood team"))
        page.get_by_role("button", name=re.compile("Send reply")).click()
        expect(page.locator("[data-reply-status]").last).to_contain_text("neighbourhood team")

        # A case from the two bike thefts.
        page.goto(base + "/?queue=all")
        for text in ("library on dudley rd", "station racks"):
            page.locator("tr[data-message-id]", has_text=text).locator(
                "input[name=message]"
            ).check()
        expect(page.locator("#selected-count")).to_have_text("2 selected")
        page.get_by_label("Case title").fill("Bike thefts, Dudley Road")
        page.get_by_role("button", name="Create case from selected").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(r"BD-\d{4}-000001"))
        expect(page.locator(".thread")).to_contain_text("station racks")

        # Close the chatter in bulk, after a preview.
        page.goto(base + "/?queue=all")
        for text in ("haha nice one", "who cares tbh"):
            page.locator("tr[data-message-id]", has_text=text).locator(
                "input[name=message]"
            ).check()
        page.get_by_label("Action").select_option("close")
        page.get_by_label("Outcome").select_option("no_action")
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_role("heading", name="Check before acting")).to_be_visible()
        page.get_by_role("button", name=re.compile("Yes, close 2")).click()
        expect(page.get_by_text("Done: close 2 message(s)")).to_be_visible()

        # Hand over.
        page.goto(base + "/desk/handover/")
        expect(page.get_by_role("heading", name="In hand")).to_be_visible()
        expect(page.locator("body")).to_contain_text("knife outside the Spar")
        page.screenshot(path=str(tmp_path / "handover.png"), full_page=True)

        # The question nobody acknowledged has missed its target: the supervisor sees it.
        sergeant = sign_in(browser, base, "sgt.hughes")
        escalation = sergeant.locator("[data-missed]")
        expect(escalation).to_contain_text("Missed response targets", timeout=20_000)
        escalation.get_by_role("link").click()
        expect(sergeant.locator("tr[data-message-id]", has_text="pcso surgery")).to_be_visible()
        browser.close()
