"""Variants per network, threads, images with alt text, templates, approval by policy (steps,
diff, send back), rules, the month calendar, appeal reviews and replies to our posts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from beatdesk.audit.models import AuditEvent
from beatdesk.core.clock import now
from beatdesk.publishing import actions, approvals, compose
from beatdesk.publishing.checks import LIMITS, count_characters
from beatdesk.publishing.models import ApprovalRule, Post, PostVersion
from beatdesk.publishing.tasks import send_due_posts, send_post
from beatdesk.publishing.tests.fakes import FakeMastodon
from beatdesk.publishing.threads import split_thread
from beatdesk.testing.fixtures import route

pytestmark = pytest.mark.django_db
MASTODON = "@westmerepolice@social.police.example"
CLEAN = "Thanks to everyone who came to the PCSO surgery at Abbeyfield library today!"
LONG = (
    "We are appealing for witnesses after a collision on the High Street in Abbeyfield on "
    "Saturday evening. A cyclist was taken to hospital. If you were driving along the High "
    "Street between six and seven, please check your dashcam footage. Anyone who saw what "
    "happened can message us here or call 101. Thank you for your help, it really does make a "
    "difference to our investigation and to everyone affected by what happened that evening."
)


@pytest.fixture
def masto(account, fake_network):
    fake = FakeMastodon(fake_network)
    acct = account(MASTODON)
    acct.set_credentials(fake.credentials())
    acct.save()
    return acct, fake


# --- variants, threads, images --------------------------------------------------------------


def test_a_long_post_splits_into_numbered_parts_at_sentence_ends():
    parts = split_thread(LONG, "x")
    assert len(parts) == 2
    assert [p.rsplit(" ", 1)[1] for p in parts] == ["1/2", "2/2"]
    assert all(count_characters(p, "x") <= LIMITS["x"] for p in parts)
    assert parts[0].removesuffix(" 1/2").endswith(".")  # broken after a sentence
    assert split_thread(LONG, "facebook") == [LONG]  # no threads on Facebook
    assert split_thread(LONG, "mastodon") == [LONG]  # fits in 500


def test_each_network_gets_its_own_checked_variant(masto, account, users, force):
    acct, _ = masto
    x = account("@WestmerePolice")
    planned = compose.variants_for(
        force, [acct, x], text=LONG, kind="appeal", variants={"mastodon": CLEAN}
    )
    by_kind = {v.account.kind: v for v in planned}
    assert by_kind["mastodon"].text == CLEAN and not by_kind["mastodon"].findings
    assert [f.check for f in by_kind["x"].findings if f.severity == "block"] == ["length"]
    threaded = compose.variants_for(force, [x], text=LONG, kind="appeal", thread=True)
    assert len(threaded[0].parts) == 2 and not threaded[0].findings


def test_a_thread_goes_out_part_by_part_each_replying_to_the_one_before(masto, users):
    acct, fake = masto
    posts = actions.check_compose(
        users["dana.desk"],
        text=LONG + " " + LONG,
        kind="appeal",
        account_ids=[acct.pk],
        send="now",
        thread=True,
        review_on=now().date() + dt.timedelta(days=7),
    )
    assert [p.part for p in posts] == [1, 2] and posts[1].previous_part == posts[0]
    assert send_due_posts() == 1  # part 2 waits for part 1
    send_post.call(posts[0].pk)
    send_post.call(posts[1].pk)
    first, second = (Post.objects.get(pk=p.pk) for p in posts)
    assert first.status == second.status == "sent"
    assert fake.statuses[second.external_id]["in_reply_to_id"] == first.external_id


def test_images_need_alt_text_and_a_network_that_takes_them(masto, account, users):
    acct, fake = masto
    image = compose.Image("bike.png", "image/png", b"\x89PNG fake", "")
    with pytest.raises(ValidationError, match="needs alt text"):
        actions.check_compose(
            users["dana.desk"],
            text=CLEAN,
            kind="event",
            account_ids=[acct.pk],
            send="draft",
            media=[image],
        )
    described = compose.Image("bike.png", "image/png", b"\x89PNG fake", "A marked bike")
    with pytest.raises(ValidationError, match="Bluesky and Mastodon only"):
        actions.check_compose(
            users["dana.desk"],
            text=CLEAN,
            kind="event",
            account_ids=[account("@WestmerePolice").pk],
            send="draft",
            media=[described],
        )
    (post,) = actions.check_compose(
        users["dana.desk"],
        text=CLEAN,
        kind="event",
        account_ids=[acct.pk],
        send="draft",
        media=[described],
    )
    assert post.media.get().alt_text == "A marked bike"
    actions.check_submit(users["dana.desk"], post.group)
    send_post.call(post.pk)
    post.refresh_from_db()
    assert fake.statuses[post.external_id]["media_ids"] == ["114166080000000123"]
    upload = fake.fake.calls("POST", "/api/v2/media")[0]
    assert b"A marked bike" in upload.body  # the alt text goes with the image


def test_an_appeal_needs_a_review_date(masto, users):
    acct, _ = masto
    with pytest.raises(ValidationError, match="review date"):
        actions.check_compose(
            users["dana.desk"], text=CLEAN, kind="appeal", account_ids=[acct.pk], send="now"
        )


def test_the_composer_offers_friendly_templates(client_for):
    page = client_for("pcso.patel").get("/publishing/compose/").content.decode()
    assert "Appeal: missing person" in page and "Result: charge" in page
    assert "Sub judice" in page  # the result template's reminder travels with it


# --- approval by policy ---------------------------------------------------------------------


def test_a_result_by_a_pcso_needs_a_supervisor_then_an_administrator(masto, users):
    acct, fake = masto
    posts = actions.check_compose(
        users["pcso.patel"], text=CLEAN, kind="result", account_ids=[acct.pk], send="now"
    )
    group = posts[0].group
    assert posts[0].approval_steps == ["supervisor", "administrator"]
    with pytest.raises(PermissionDenied):
        actions.check_approve(users["dana.desk"], group)
    actions.check_approve(users["sgt.hughes"], group)
    post = Post.objects.get(pk=posts[0].pk)
    assert post.status == "awaiting_approval" and post.next_approver_role == "administrator"
    with pytest.raises(ValidationError, match="nothing here is waiting for your approval"):
        actions.check_approve(users["sgt.hughes"], group)
    actions.check_approve(users["admin"], group)
    assert Post.objects.get(pk=post.pk).status == "scheduled"
    assert AuditEvent.objects.filter(action="post.approved").count() == 2


def test_sent_back_with_a_reason_then_the_approver_sees_what_changed(masto, users, client_for):
    acct, _ = masto
    (post,) = actions.check_compose(
        users["pcso.patel"], text=CLEAN, kind="event", account_ids=[acct.pk], send="now"
    )
    actions.check_return(users["sgt.hughes"], post.group, "say which library")
    post.refresh_from_db()
    assert post.status == "returned" and post.error == "say which library"
    actions.check_edit(users["pcso.patel"], post.pk, CLEAN.replace("library", "library, Elm Road"))
    actions.check_submit(users["pcso.patel"], post.group)
    earlier, latest, diff = approvals.changes_since_review(post.group)
    assert earlier is not None and earlier.action == "submitted"
    assert latest is not None and latest.action == "submitted" and "Elm&nbsp;Road" in diff
    page = client_for("sgt.hughes").get(f"/publishing/p/{post.group}/").content.decode()
    assert 'id="diff"' in page and "Elm&nbsp;Road" in page and "Send back" in page
    assert list(PostVersion.objects.filter(group=post.group).values_list("action", flat=True)) == [
        "submitted",
        "returned",
        "edited",
        "submitted",
    ]


def test_nobody_approves_their_own_post(masto, users, force):
    acct, _ = masto
    ApprovalRule.objects.create(force=force, name="All force posts", steps=["supervisor"])
    (post,) = actions.check_compose(
        users["sgt.hughes"], text=CLEAN, kind="event", account_ids=[acct.pk], send="now"
    )
    assert post.status == "awaiting_approval"
    with pytest.raises(ValidationError, match="someone else must approve"):
        actions.check_approve(users["sgt.hughes"], post.group)


def test_rules_page_lists_the_defaults_and_a_supervisor_adds_one(client_for, force):
    page = client_for("pcso.patel").get("/publishing/rules/").content.decode()
    assert "built-in defaults" in page and "Add a rule" not in page
    client_for("sgt.hughes").post(
        "/publishing/rules/",
        {
            "name": "Team appeals: a supervisor",
            "account_scope": "team",
            "post_kind": "appeal",
            "step1": "supervisor",
            "position": "5",
        },
    )
    rules = approvals.rules_for(force)
    assert rules[0].name == "Team appeals: a supervisor" and len(rules) == 4
    assert AuditEvent.objects.filter(action="approval_rule.added").exists()


# --- calendar, appeals, replies -----------------------------------------------------------------


def test_the_month_shows_posts_and_moves_by_month(masto, users, client_for):
    acct, _ = masto
    when = now() + dt.timedelta(days=1)
    actions.check_compose(
        users["dana.desk"],
        text=CLEAN,
        kind="event",
        account_ids=[acct.pk],
        send="schedule",
        scheduled_for=when,
    )
    month = when.strftime("%Y-%m")
    page = client_for("dana.desk").get(f"/publishing/calendar/month/?m={month}").content.decode()
    # The arrow keys move by month (month.js, a static script under the CSP).
    assert "Thanks to everyone" in page and 'id="prev-month"' in page and "month.js" in page
    other = client_for("dana.desk").get("/publishing/calendar/month/?m=2020-01").content.decode()
    assert "Nothing scheduled or published in January" in other


def test_an_appeal_past_its_review_date_reminds_the_desk(masto, users, client_for):
    acct, fake = masto
    (post,) = actions.check_compose(
        users["dana.desk"],
        text=CLEAN,
        kind="appeal",
        account_ids=[acct.pk],
        send="now",
        review_on=now().date() + dt.timedelta(days=1),
    )
    send_post.call(post.pk)
    Post.objects.filter(pk=post.pk).update(review_on=now().date() - dt.timedelta(days=1))
    assert actions.do_remind_due_appeals() == 1
    assert actions.do_remind_due_appeals() == 0  # once a day
    desk = client_for("dana.desk")
    assert b"data-appeals-due" in desk.get("/publishing/calendar/").content
    assert CLEAN[:40].encode() in desk.get("/publishing/appeals/").content
    desk.post(
        f"/publishing/p/{post.group}/act/",
        {"action": "review", "withdraw_reason": "the man has been found"},
    )
    post.refresh_from_db()
    assert post.status == "deleted" and post.withdrawn_at and not fake.statuses
    assert b"data-appeals-due" not in desk.get("/publishing/calendar/").content


def test_replies_to_our_post_are_linked_both_ways(masto, users, client_for, deliver):
    acct, _ = masto
    (post,) = actions.check_compose(
        users["dana.desk"], text=CLEAN, kind="event", account_ids=[acct.pk], send="now"
    )
    send_post.call(post.pk)
    post.refresh_from_db()
    received = deliver(
        {
            "id": "reply-1",
            "network": "mastodon",
            "author": "@resident@example.social",
            "text": "Great to see you there, thanks!",
            "account": MASTODON,
            "reply_to": post.external_id,
        }
    )
    route(received.message_id)  # triaged, as the worker does
    desk = client_for("dana.desk")
    message_page = desk.get(f"/messages/{received.message_id}/").content.decode()
    assert "Reply to our post" in message_page and f"/publishing/p/{post.group}/" in message_page
    post_page = desk.get(f"/publishing/p/{post.group}/").content.decode()
    assert "Great to see you there" in post_page


def test_a_rule_for_one_account(masto, users, client_for, account):
    acct, _ = masto
    x = account("@WestmerePolice")
    client_for("admin").post(
        "/publishing/rules/",
        {"name": "Mastodon: a supervisor", "account": acct.pk, "step1": "supervisor"},
    )
    (on_masto,) = actions.check_compose(
        users["dana.desk"], text=CLEAN, kind="event", account_ids=[acct.pk], send="now"
    )
    (on_x,) = actions.check_compose(
        users["dana.desk"], text=CLEAN, kind="event", account_ids=[x.pk], send="now"
    )
    assert on_masto.approval_steps == ["supervisor"] and on_x.approval_steps == []


def test_an_image_chosen_before_check_is_kept_until_the_post_is_saved(masto, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    acct, _ = masto
    desk = client_for("dana.desk")
    form = {"text": CLEAN, "kind": "event", "account": [acct.pk], "alt_text1": "A marked bike"}
    checked = desk.post(
        "/publishing/compose/",
        {
            **form,
            "action": "check",
            "image1": SimpleUploadedFile("bike.png", b"\x89PNG fake", "image/png"),
        },
    )
    page = checked.content.decode()
    assert "Kept: bike.png" in page and 'value="A marked bike"' in page
    kept = re.search(r'name="kept_image1" value="([^"]+)"', page)
    assert kept is not None
    saved = desk.post(
        "/publishing/compose/", {**form, "action": "draft", "kept_image1": kept.group(1)}
    )
    assert saved.status_code == 302
    media = Post.objects.get(account=acct).media.get()
    assert (media.filename, bytes(media.data), media.alt_text) == (
        "bike.png",
        b"\x89PNG fake",
        "A marked bike",
    )
