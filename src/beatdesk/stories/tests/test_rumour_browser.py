"""In a real browser: a desk operator opens a story the watches gathered, promotes it to a
rumour, links the force's published rebuttal, and sees the spread-versus-reach chart drawn."""

from __future__ import annotations

import pytest

from beatdesk.demo.tests.test_demo_browser import CHROMIUM, free_port, wait_for
from beatdesk.inbox.tests.test_shift_browser import sign_in
from beatdesk.testing.processes import Installation

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETUP = """
import datetime as dt, json
from beatdesk.accounts.models import Force, User
from beatdesk.core.clock import now
from beatdesk.live.models import ReachSnapshot
from beatdesk.monitoring.actions import CollectedPost, do_store_posts
from beatdesk.monitoring.models import Operation, Watch
from beatdesk.networks.models import NetworkAccount
from beatdesk.publishing.models import Post
from beatdesk.stories.models import Story

force = Force.objects.get()
sgt = User.objects.get(username="sgt.hughes")
desk = User.objects.get(username="dana.desk")
at = now() - dt.timedelta(hours=2)
op = Operation.objects.create(force=force, name="Op Stripe", owner=sgt,
    retention_until=now() + dt.timedelta(days=30))
watch = Watch.objects.create(operation=op, name="zoo", network="replay", kind="hashtag",
    query="#WestmereZoo", purpose="Public safety around the zoo", owner=desk, created_by=desk,
    starts_at=at, expires_at=now() + dt.timedelta(days=2), status="active", approved_by=sgt,
    approved_at=at)
told = ["Is it true a tiger escaped from Westmere zoo? #WestmereZoo",
        "apparently a tiger escaped from westmere zoo?? #WestmereZoo",
        "tiger escaped from Westmere zoo, can anyone confirm? #WestmereZoo"]
posts = [CollectedPost("replay", f"t{i}", f"@p{i}", told[i % 3],
         at + dt.timedelta(minutes=4 * i), json.dumps({"i": i})) for i in range(12)]
do_store_posts(watch, posts)
story = Story.objects.get(operation=op)
x_account = NetworkAccount.objects.filter(force=force, kind="x").first()
rebuttal = Post.objects.create(force=force, account=x_account, author=desk,
    text="No tiger has escaped: every animal at Westmere zoo is safe.",
    kind="update", status="sent", sent_at=at + dt.timedelta(minutes=30), idempotency_key="tiger-no")
for n, views in enumerate([120, 900, 2400]):
    ReachSnapshot.objects.create(post=rebuttal, taken_at=at + dt.timedelta(minutes=40 + 20 * n),
        impressions=views, reposts=n, likes=3 * n)
print(json.dumps({"story": story.pk, "size": story.size, "post": rebuttal.pk}))
"""


@pytest.fixture
def desk(tmp_path):
    inst = Installation(tmp_path / "home", None)
    inst.env["BEATDESK_DEMO"] = "1"
    inst.migrate()
    inst.run("seed_demo")
    port = free_port()
    server = inst.start("serve", "--port", str(port))
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        yield inst, f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_promote_a_story_link_the_rebuttal_and_see_spread_against_reach(desk, tmp_path):
    import json

    from playwright.sync_api import expect, sync_playwright

    inst, base = desk
    made = json.loads(inst.run("shell", "-c", SETUP).stdout.strip().splitlines()[-1])
    assert made["size"] == 12
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = sign_in(browser, base, "dana.desk")
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        page.get_by_role("link", name="Rumours").click()
        expect(page.get_by_role("heading", name="Rumour register")).to_be_visible()
        page.locator(f"tr[data-story-id='{made['story']}'] a").first.click()
        expect(page.locator("#spread-chart")).to_have_attribute("data-drawn-points", "12")
        page.get_by_label("What does the rumour claim?").fill("A tiger escaped from Westmere zoo")
        page.get_by_role("button", name="Promote to rumour").click()
        expect(page.get_by_role("heading", name="Rumour: A tiger escaped")).to_be_visible()
        expect(page.get_by_role("link", name="Draft rebuttal")).to_be_visible()

        page.get_by_label("Link a post as the rebuttal").select_option(str(made["post"]))
        page.get_by_role("button", name="Link rebuttal").click()
        expect(page.locator("[data-rebuttal]")).to_contain_text("No tiger has escaped")

        chart = page.locator("#spread-chart")
        expect(chart.locator("canvas")).to_have_count(1)
        expect(chart).to_have_attribute("data-drawn-points", "16")  # 12 posts; sent + 3 snapshots
        expect(chart).to_contain_text("Rebuttal reach")
        page.screenshot(path=str(tmp_path / "rumour.png"), full_page=True)
        browser.close()
    assert not errors
