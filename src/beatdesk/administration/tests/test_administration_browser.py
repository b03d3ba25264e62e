"""From an empty home, in Debian's chromium: `beatdesk setup` makes the force and its
administrator; the administrator signs in and enrols an authenticator from the QR code's
key; invites a desk operator, who accepts from the link in the outbox, chooses a password
and enrols too; the administrator sees them signed in on the users list, at a desktop's
and a phone's width, and adds an area whose KML outline is drawn on the map; all under the
strict Content-Security-Policy without a violation."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import pytest
from django_otp.oath import TOTP

from beatdesk.accounts.tests.test_content_security_policy_browser import SHOTS, Watched
from beatdesk.administration.tests.test_teams_areas import KML
from beatdesk.demo.tests.test_demo_browser import CHROMIUM, free_port, wait_for
from beatdesk.testing.processes import Installation

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN_PASSWORD = "setup-chose-this-long-passphrase"
DESK_PASSWORD = "the-operator-chose-this-one-7"


def enrol(watched: Watched) -> None:
    """The authenticator step: read the key shown beside the QR code, as an app would."""
    from playwright.sync_api import expect

    page = watched.page
    expect(page.get_by_role("heading", name="Set up your authenticator")).to_be_visible()
    qr = page.get_by_alt_text("QR code to add beatdesk to an authenticator app")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    key = base64.b32decode(page.locator("code").first.inner_text().strip())
    totp = TOTP(key)
    totp.time = time.time()
    page.get_by_label("Six-digit code").fill(f"{totp.token():06d}")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"^(?!.*/accounts/(login|two-factor)/)"))
    watched.collect()


def outbox_link(home: Path) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for mail in sorted((home / "outbox").glob("*.log")):
            found = re.search(r"https?://\S+/administration/invitation/\S+/", mail.read_text())
            if found:
                return found.group(0)
        time.sleep(0.2)
    raise AssertionError("no invitation in the outbox")


def test_setup_then_an_administrator_invites_a_desk_operator(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    inst = Installation(tmp_path / "home", None)
    secret = tmp_path / "password"
    secret.write_text(ADMIN_PASSWORD)
    flags = [
        "setup",
        "--no-input",
        "--force-name=Westmere Police",
        "--force-slug=westmere",
        "--reference-prefix=WM",
        "--admin-username=chief",
        "--admin-email=chief@westmere-police.example",
        f"--admin-password-file={secret}",
    ]
    said = inst.run(*flags).stdout
    assert "Set up Westmere Police" in said and "beatdesk worker" in said
    assert (inst.home / "keys" / "credentials-key").exists()
    assert "Nothing changed" in inst.run(*flags).stdout

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = inst.start("serve", "--port", str(port))
    try:
        wait_for(f"{base}/healthz")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            chief = Watched(browser, base)
            page = chief.page
            chief.visit("/accounts/login/")
            page.get_by_label("Username").fill("chief")
            page.get_by_label("Password").fill(ADMIN_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            enrol(chief)

            page.get_by_role("navigation", name="Main").get_by_role(
                "link", name="Administration"
            ).click()
            chief.collect()
            page.get_by_role("link", name="Users").first.click()
            page.get_by_role("link", name="Invite someone").click()
            chief.collect()
            page.get_by_label("Email").fill("dana.okafor@westmere-police.example")
            page.get_by_label("Username").fill("dana.okafor")
            page.get_by_label("First name").fill("Dana")
            page.get_by_label("Role").select_option("desk_operator")
            page.get_by_role("button", name="Send the invitation").click()
            expect(page.get_by_role("status")).to_contain_text("Invited dana.okafor")
            chief.collect()

            link = outbox_link(inst.home)
            dana = Watched(browser, base)
            dana.visit(link.replace(re.match(r"https?://[^/]+", link).group(0), ""))
            expect(dana.page.get_by_role("heading", name="Welcome to beatdesk")).to_be_visible()
            dana.page.get_by_label("New password", exact=True).fill(DESK_PASSWORD)
            dana.page.get_by_label("New password confirmation").fill(DESK_PASSWORD)
            dana.page.get_by_role("button", name="Choose this password").click()
            enrol(dana)
            expect(dana.page.locator("header .who")).to_contain_text("Desk operator")
            # The link works once.
            used = dana.context.new_page().goto(link)
            assert used is not None and used.status == 400

            chief.visit("/administration/users/")
            row = page.locator("tr", has_text="dana.okafor")
            expect(row).to_contain_text("Desk operator")
            expect(row).to_contain_text("enabled")
            expect(row).not_to_contain_text("never")
            chief.shoot("administration-users")
            page.set_viewport_size({"width": 390, "height": 844})
            chief.visit("/administration/users/")
            # On a phone the list stacks: nothing wider than the screen.
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            chief.shoot("administration-users")
            chief.visit("/administration/")
            chief.shoot("administration-index")

            # An area with its outline from a KML file, drawn on the map by a static script.
            page.set_viewport_size({"width": 1280, "height": 900})
            kml = tmp_path / "ladywood.kml"
            kml.write_text(KML)
            chief.visit("/administration/areas/new/")
            page.get_by_label("Name", exact=True).fill("Ladywood")
            page.get_by_label("Short name").fill("ladywood")
            page.get_by_label("Postcode districts").fill("B16, B1")
            page.get_by_label("Outline").set_input_files(str(kml))
            page.get_by_role("button", name="Save area").click()
            expect(page.locator("#area-map")).to_have_attribute("data-rings", "1")
            expect(page.locator("#area-map path.leaflet-interactive")).to_have_count(1)
            chief.collect()
            chief.shoot("administration-area")

            problems = chief.problems + dana.problems
            assert not problems, "\n".join(problems)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert SHOTS.exists()
