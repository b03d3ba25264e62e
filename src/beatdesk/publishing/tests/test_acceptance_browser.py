"""The publishing issue's acceptance test, in Debian's chromium against real `beatdesk serve`
and `beatdesk worker` processes: a PCSO drafts a post with a phone number and a charged
person's name, sees both checks, fixes it and submits it; a supervisor approves; it reaches
Mastodon and Bluesky exactly once each although the worker is killed in the middle of sending
and restarted; and it is in the account's Atom feed."""

from __future__ import annotations

import re
import time
import urllib.request

import pytest

from beatdesk.demo.tests.test_demo_browser import CHROMIUM, free_port, wait_for
from beatdesk.inbox.tests.test_shift_browser import sign_in
from beatdesk.publishing.tests.fakes import FakeBluesky, FakeMastodon
from beatdesk.testing.fakenet import FakeNetwork
from beatdesk.testing.processes import Installation

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHARGED = "Darren Example"
DRAFT = (
    "Thanks for sharing our appeal about the burglary in Abbeyfield. Darren Example has been "
    "charged. Anyone with information can call Jo on 07700 900123."
)
FIXED = (
    "Thanks for sharing our appeal about the burglary in Abbeyfield. A man has been charged "
    "and will appear in court on Monday. Anyone with more information, please call 101."
)
MASTODON = "@westmerepolice@social.police.example"
BLUESKY = "westmerepolice.bsky.social"
SENDING_TIMEOUT = 2  # seconds before a send left by a dead worker counts as stuck


def _setup_script(masto: FakeMastodon, bsky: FakeBluesky) -> str:
    return (
        "from beatdesk.networks.models import NetworkAccount as A\n"
        "from beatdesk.accounts.models import Force\n"
        f"Force.objects.update(charged_names={CHARGED!r})\n"
        f"for handle, creds in [({MASTODON!r}, {masto.credentials()!r}),"
        f" ({BLUESKY!r}, {bsky.credentials()!r})]:\n"
        "    a = A.objects.get(handle=handle); a.set_credentials(creds); a.save()\n"
        f"print(A.objects.get(handle={MASTODON!r}).pk)\n"
    )


@pytest.fixture
def desk(tmp_path):
    mastodon_server, bluesky_server = FakeNetwork().start(), FakeNetwork().start()
    masto = FakeMastodon(mastodon_server, hang_first=True)
    bsky = FakeBluesky(bluesky_server)
    inst = Installation(tmp_path / "home", None)
    inst.env["BEATDESK_DEMO"] = "1"
    inst.env["BEATDESK_SENDING_TIMEOUT"] = str(SENDING_TIMEOUT)
    inst.migrate()
    inst.run("seed_demo")
    account_id = int(inst.run("shell", "-c", _setup_script(masto, bsky)).stdout.split()[-1])
    port = free_port()
    procs = {
        "serve": inst.start("serve", "--port", str(port)),
        "worker": inst.start("worker", "--interval", "0.1", "--no-startup-delay"),
    }
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        yield inst, f"http://127.0.0.1:{port}", procs, masto, bsky, account_id
    finally:
        masto.hang.release.set()
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)
        mastodon_server.stop()
        bluesky_server.stop()


def test_checked_approved_and_delivered_exactly_once_across_a_worker_restart(desk, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    inst, base, procs, masto, bsky, account_id = desk
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        # The PCSO drafts the post for the force's Mastodon and Bluesky accounts.
        pcso = sign_in(browser, base, "pcso.patel")
        pcso.goto(base + "/publishing/compose/")
        pcso.get_by_label("What is it?").select_option("update")
        pcso.get_by_label("The post").fill(DRAFT)
        pcso.get_by_label(re.compile(re.escape(MASTODON))).check()
        pcso.get_by_label(re.compile(re.escape(BLUESKY))).check()
        pcso.get_by_role("button", name="Check").click()

        # Both checks, on both networks: the phone number and the charged person.
        for network in ("mastodon", "bluesky"):
            variant = pcso.locator(f"[data-variant={network}]")
            expect(variant.locator("[data-check=personal_data].check-block")).to_contain_text(
                "07700 900123"
            )
            expect(variant.locator("[data-check=sub_judice].check-block")).to_contain_text(CHARGED)
        pcso.screenshot(path=str(tmp_path / "checks.png"), full_page=True)
        # Submitting as it is is refused.
        pcso.get_by_role("button", name="Submit or publish now").click()
        expect(pcso.get_by_text(re.compile("must be cleared or overridden"))).to_be_visible()

        # Fixed, checked again, submitted for approval.
        pcso.get_by_label("The post").fill(FIXED)
        pcso.get_by_role("button", name="Check").click()
        expect(pcso.locator("[data-checks-clear]")).to_have_count(2)
        pcso.get_by_role("button", name="Submit or publish now").click()
        expect(pcso.locator("#outcomes tr[data-status=awaiting_approval]")).to_have_count(2)

        # A supervisor approves from the approvals queue.
        sergeant = sign_in(browser, base, "sgt.hughes")
        sergeant.goto(base + "/publishing/approvals/")
        sergeant.get_by_role("link", name=re.compile("Thanks for sharing our appeal")).click()
        expect(sergeant.locator("#approval-steps")).to_contain_text("supervisor")
        sergeant.get_by_role("button", name="Approve").click()
        expect(sergeant.get_by_text("Approved: it is on its way.")).to_be_visible()

        # Mastodon takes the post but its answer never comes: the worker dies mid-send.
        assert masto.hang.reached.wait(60), "the worker never sent to Mastodon"
        procs["worker"].kill()
        procs["worker"].wait(timeout=20)
        masto.hang.release.set()
        time.sleep(SENDING_TIMEOUT + 1)  # the dead worker's claim is now older than the timeout
        procs["worker"] = inst.start("worker", "--interval", "0.1", "--no-startup-delay")

        # Both networks end up with the post, exactly once each.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sergeant.reload()
            if sergeant.locator("#outcomes tr[data-status=sent]").count() == 2:
                break
            time.sleep(0.5)
        expect(sergeant.locator("#outcomes tr[data-status=sent]")).to_have_count(2)
        sergeant.screenshot(path=str(tmp_path / "delivered.png"), full_page=True)
        assert masto.texts() == [FIXED]
        assert bsky.texts() == [FIXED]
        sends = masto.fake.calls("POST", "/api/v1/statuses")
        assert len(sends) == 2, "the restarted worker sent again, with the same key"
        assert len({r.headers["idempotency-key"] for r in sends}) == 1

        # The month calendar shows it on both networks; the arrow keys move between months.
        sergeant.goto(base + "/publishing/calendar/month/")
        shown = sergeant.locator("table.month [data-post-status=sent]")
        expect(shown).to_have_count(2)
        this_month = sergeant.get_by_role("heading", level=1).inner_text()
        sergeant.keyboard.press("ArrowRight")
        expect(sergeant.get_by_role("heading", level=1)).not_to_have_text(this_month)
        sergeant.keyboard.press("ArrowLeft")
        expect(sergeant.get_by_role("heading", level=1)).to_have_text(this_month)
        browser.close()

    # And it is in the account's Atom feed.
    with urllib.request.urlopen(f"{base}/public/{account_id}/feed.atom", timeout=10) as feed:  # noqa: S310 (loopback only)
        assert "Thanks for sharing our appeal" in feed.read().decode()
