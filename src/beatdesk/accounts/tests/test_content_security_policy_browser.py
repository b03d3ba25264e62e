"""The Content-Security-Policy in Debian's chromium: a desk operator, a supervisor and a
community adviser open the main pages, the signed-out pages are opened too, and the browser
reports no violation and no script error (the enrolment QR code included); the pages'
scripts still work (the inbox keys, the keyboard help, the hand-over's print button, the
message page's templates, the month's arrow keys, the live event's chart and approvals, the
board's map) and htmx still polls."""

from __future__ import annotations

import re

import pytest

from beatdesk.demo.seed import DEMO_PASSWORD
from beatdesk.demo.tests.test_demo_browser import ARTIFACTS, CHROMIUM
from beatdesk.inbox.tests.test_shift_browser import desk  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Runs before any page script, outside the page's policy: it collects what the policy blocks.
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') +
    ' at ' + (e.sourceFile || location.pathname) + ':' + e.lineNumber);
});
"""
SHOTS = ARTIFACTS / "csp"
NEW_OFFICER = (
    "from beatdesk.accounts.models import Force, User;"
    "from beatdesk.demo.seed import DEMO_PASSWORD;"
    "User.objects.create_user('new.officer', password=DEMO_PASSWORD, role='officer',"
    " force=Force.objects.get())"
)


class Watched:
    """One browser context whose console, script errors and policy violations are kept."""

    def __init__(self, browser, base: str, width: int = 1280) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.context.add_init_script(WATCH)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self.note)
        self.page.on(
            "pageerror", lambda e: self.problems.append(f"{self.page.url}: script error: {e}")
        )

    def note(self, message) -> None:
        # A page's own HTTP status (a 403 for a role) is not a script's problem.
        url = message.location["url"]
        if message.type in ("error", "warning") and url != self.page.url:
            self.problems.append(f"{self.page.url}: {message.type}: {message.text} {url}")

    def collect(self) -> None:
        self.page.wait_for_load_state("networkidle")
        for v in self.page.evaluate("window.__violations || []"):
            self.problems.append(f"{self.page.url}: {v}")

    def visit(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.collect()

    def sign_in(self, username: str) -> None:
        page = self.page
        page.goto(self.base + "/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_label("Six-digit code").fill(page.locator("[data-demo-code]").inner_text())
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(re.compile(r"^(?!.*/accounts/(login|two-factor)/)"))
        self.collect()

    def every_nav_page(self) -> list[str]:
        links = self.page.locator("header nav a").evaluate_all("as => as.map(a => a.pathname)")
        for path in links:
            self.visit(path)
        return links

    def shoot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        width = self.page.viewport_size["width"]
        self.page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def test_the_desk_runs_under_the_policy_without_a_violation(desk):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    inst, base = desk
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        everyone: list[Watched] = []

        # Signed out: sign-in, reset, the public contact form.
        out = Watched(browser, base)
        everyone.append(out)
        for path in ("/accounts/login/", "/accounts/password/reset/", "/contact/"):
            out.visit(path)
        expect(out.page.get_by_role("heading", name="Send a message to the police")).to_be_visible()

        # A new officer enrols an authenticator: the QR code is a data: image the policy allows.
        inst.run("shell", "-c", NEW_OFFICER)
        new = Watched(browser, base)
        everyone.append(new)
        new.page.goto(base + "/accounts/login/")
        new.page.get_by_label("Username").fill("new.officer")
        new.page.get_by_label("Password").fill(DEMO_PASSWORD)
        new.page.get_by_role("button", name="Sign in").click()
        expect(new.page.get_by_role("heading", name="Set up your authenticator")).to_be_visible()
        new.collect()
        qr = new.page.get_by_alt_text("QR code to add beatdesk to an authenticator app")
        assert qr.evaluate("img => img.complete && img.naturalWidth > 0")

        # A desk operator: every page in the nav, then the pages' scripts at work.
        dana = Watched(browser, base)
        everyone.append(dana)
        dana.sign_in("dana.desk")
        assert len(dana.every_nav_page()) >= 6
        page = dana.page
        dana.visit("/?queue=all")
        rows = page.locator("#inbox-live tbody tr[data-href]")
        expect(rows.first).to_be_visible(timeout=20_000)
        assert page.evaluate("htmx.config.allowEval") is False
        expect(page.locator("#alerts .alert").first).to_be_visible(timeout=20_000)  # htmx polls
        page.keyboard.press("j")
        expect(rows.first).to_have_class(re.compile(r"\bcursor\b"))
        page.keyboard.press("?")
        expect(page.locator("#keys-help")).to_be_visible()
        page.keyboard.press("Escape")
        dana.shoot("inbox")

        page.keyboard.press("Enter")  # opens the row under the cursor
        page.wait_for_url(re.compile(r"/messages/\d+/$"))
        dana.collect()
        page.locator("#id_template").select_option(index=1)
        expect(page.locator("#id_text")).not_to_have_value("")
        expect(page.locator("#reply-count")).to_contain_text("characters")
        dana.shoot("message")

        dana.visit("/desk/handover/")
        page.evaluate("window.print = function () { window.__printed = true; }")
        page.get_by_role("button", name="Print").click()
        assert page.evaluate("window.__printed") is True

        dana.visit("/publishing/calendar/month/")
        month = page.get_by_role("heading", level=1).inner_text()
        page.keyboard.press("ArrowRight")
        expect(page.get_by_role("heading", level=1)).not_to_have_text(month)
        dana.collect()
        dana.shoot("month")

        dana.visit("/publishing/compose/")
        page.locator("#id_template").select_option(index=1)
        expect(page.locator("#id_text")).not_to_have_value("")

        dana.visit("/live/")
        page.get_by_role("link", name="#wmp24").click()
        dana.collect()
        expect(page.locator("#event-chart canvas")).to_have_count(1)
        page.get_by_role("link", name="Approve entries").click()
        dana.collect()
        expect(page.locator("li.entry").first).to_be_focused()

        dana.visit("/monitoring/")
        page.get_by_role("link", name=re.compile("board", re.I)).first.click()
        dana.collect()
        expect(page.locator("#board-map")).to_have_attribute("data-markers", re.compile(r"\d+"))
        chart = page.locator("#volume-chart")
        expect(chart).to_have_attribute("data-drawn-points", re.compile(r"\d+"))
        dana.shoot("board")
        board = page.url.removeprefix(base)

        # A supervisor: every page in the nav (the audit log, routing, channels among them).
        sergeant = Watched(browser, base)
        everyone.append(sergeant)
        sergeant.sign_in("sgt.hughes")
        assert len(sergeant.every_nav_page()) >= 8
        sergeant.visit("/accounts/password/")

        # A community adviser, with their second factor.
        ruth = Watched(browser, base)
        everyone.append(ruth)
        ruth.sign_in("ruth.iag")
        ruth.every_nav_page()
        ruth.visit("/accounts/password/")

        # The same pages on a phone's width.
        phone = Watched(browser, base, width=390)
        everyone.append(phone)
        phone.sign_in("dana.desk")
        phone.visit("/?queue=all")
        phone.shoot("inbox")
        first = phone.page.locator("#inbox-live tbody tr[data-href]").first
        phone.visit(first.get_attribute("data-href"))
        phone.shoot("message")
        for path, name in [("/publishing/calendar/month/", "month"), (board, "board")]:
            phone.visit(path)
            phone.shoot(name)

        problems = [p for w in everyone for p in w.problems]
        browser.close()
    assert problems == [], "\n".join(problems)
