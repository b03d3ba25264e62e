"""In a real browser, on the demo: a desk operator opens #wmp24 from the nav, approves the
first waiting entry with the keyboard, edits the next, approves the rest at once, and the
event page shows them all scheduled."""

from __future__ import annotations

import re

import pytest

from beatdesk.demo.tests.test_demo_browser import CHROMIUM
from beatdesk.inbox.tests.test_shift_browser import sign_in
from beatdesk.stories.tests.test_rumour_browser import desk  # noqa: F401, F811 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_approve_the_stream_from_the_keyboard(desk, tmp_path):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    inst, base = desk
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = sign_in(browser, base, "dana.desk")

        page.get_by_role("link", name="Live", exact=True).click()
        page.get_by_role("link", name="#wmp24").click()
        expect(page.get_by_role("heading", name="#wmp24 Westmere 24")).to_be_visible()
        page.get_by_role("link", name="Approve entries").click()
        page.wait_for_url(re.compile(r"/approve/$"))
        entries = page.locator("li.entry")
        waiting = entries.count()
        assert waiting >= 1
        first = entries.first.locator("[data-post-text]").inner_text()
        assert first.startswith("#wmp24 ")
        page.screenshot(path=str(tmp_path / "approvals.png"), full_page=True)

        page.keyboard.press("a")  # the first entry has the focus
        expect(page.locator(".flash")).to_contain_text("1 entry approved")
        expect(page.locator("li.entry")).to_have_count(waiting - 1)

        if waiting > 1:
            page.keyboard.press("e")
            text = page.locator(".edit-form textarea")
            expect(text).to_be_focused()
            text.fill("#wmp24 quiet spell in Canal Side: officers on patrol")
            page.get_by_role("button", name="Save").click()
            expect(page.locator(".flash")).to_contain_text("still needs approval")
            expect(page.locator("li.entry").first).to_contain_text("quiet spell in Canal Side")
            page.keyboard.press("Shift+A")
            expect(page.get_by_text("Nothing is awaiting approval.")).to_be_visible()

        page.get_by_role("link", name="← #wmp24").click()
        expect(page.locator('[data-figure="pending"]')).to_contain_text("(0 awaiting approval)")
        expect(page.locator("#event-chart canvas")).to_have_count(1)
        page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
        browser.close()
    said = inst.run("live", "summary", "wmp24").stdout
    assert "awaiting approval 0" in said
