"""The navigation as each person sees it, in Debian's chromium under the strict
Content-Security-Policy: a PCSO, a desk operator and the adviser, at a desk's width and a
phone's, and the 404 page. Screenshots go to test-artifacts/nav/."""

from __future__ import annotations

import pytest

from beatdesk.accounts.tests.test_content_security_policy_browser import Watched
from beatdesk.demo.tests.test_demo_browser import ARTIFACTS, CHROMIUM
from beatdesk.inbox.tests.test_shift_browser import desk  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHOTS = ARTIFACTS / "nav"


def test_each_role_sees_its_navigation_and_the_error_pages(desk):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    _, base = desk
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        everyone: list[Watched] = []
        for username, first in (
            ("pcso.patel", "Inbox"),
            ("dana.desk", "Inbox"),
            ("ruth.iag", "Your account"),
        ):
            # One sign-in each: a TOTP code is good once, so the phone's width is a resize.
            person = Watched(browser, base)
            everyone.append(person)
            person.sign_in(username)
            home = person.page.url
            for width in (1280, 390):
                person.page.set_viewport_size({"width": width, "height": 900})
                person.page.goto(home)
                nav = person.page.locator("header nav a")
                expect(nav.first).to_have_text(first)
                labels = nav.all_inner_texts()
                if username == "pcso.patel":
                    assert "Live" not in labels and "Channels" not in labels
                if username == "ruth.iag":
                    assert labels == ["Your account"]
                    expect(person.page.get_by_role("heading", name="Your account")).to_be_visible()
                SHOTS.mkdir(parents=True, exist_ok=True)
                person.page.screenshot(path=str(SHOTS / f"{username}-{width}.png"))
                if username == "dana.desk":
                    person.visit("/no-such-page/")
                    expect(person.page.get_by_role("heading", name="Not found")).to_be_visible()
                    expect(person.page.get_by_role("link", name="Back to inbox")).to_be_visible()
                    person.page.screenshot(path=str(SHOTS / f"404-{width}.png"))
        # The favicon the pages link loads.
        icon = everyone[0].page.request.get(base + "/favicon.ico")
        assert icon.ok and "svg" in icon.headers["content-type"]
        problems = [p for w in everyone for p in w.problems if "/no-such-page/" not in p]
        browser.close()
    assert problems == []
