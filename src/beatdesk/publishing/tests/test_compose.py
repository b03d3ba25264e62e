"""The composer: write once for several accounts, checks, approval, scheduling, emergency stop."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from beatdesk.audit.models import AuditEvent
from beatdesk.core.clock import now
from beatdesk.publishing import actions, compose
from beatdesk.publishing.models import Post
from beatdesk.publishing.tasks import send_due_posts
from beatdesk.testing.fakenet import Response

pytestmark = pytest.mark.django_db
CLEAN = "Thanks to everyone who came to the PCSO surgery at Abbeyfield library today!"


@pytest.fixture
def masto(account, fake_network):
    acct = account("@westmerepolice@social.police.example")
    acct.set_credentials({"instance": fake_network.base_url, "access_token": "tok"})
    acct.save()
    fake_network.route("POST", "/api/v1/statuses", Response(200, {"id": "300001"}))
    return acct


def test_one_post_for_several_accounts_is_one_group_and_goes_out(masto, account, users):
    x = account("@WestmerePolice")
    posts = actions.check_compose(
        users["dana.desk"], text=CLEAN, kind="event", account_ids=[masto.pk, x.pk], send="now"
    )
    assert len(posts) == 2 and len({p.group for p in posts}) == 1
    assert {p.status for p in posts} == {"scheduled"}
    assert send_due_posts() == 2
    assert send_due_posts() == 0  # handed to the workers once, not every round
    from beatdesk.publishing.tasks import send_post

    send_post.call(posts[0].pk if posts[0].account == masto else posts[1].pk)
    assert Post.objects.get(account=masto, group=posts[0].group).status == "sent"


def test_blocking_checks_need_a_supervisor_and_a_reason(masto, users, force):
    text = "A male was apprehended in relation to a burglary. Call Jo on 07700 900123."
    with pytest.raises(ValidationError, match="overridden by a supervisor"):
        actions.check_compose(
            users["dana.desk"], text=text, kind="result", account_ids=[masto.pk], send="now"
        )
    draft = actions.check_compose(
        users["dana.desk"], text=text, kind="result", account_ids=[masto.pk], send="draft"
    )
    assert draft[0].status == "draft"  # a draft may hold problems; sending may not
    with pytest.raises(ValidationError, match="say why"):
        actions.check_compose(
            users["sgt.hughes"], text=text, kind="result", account_ids=[masto.pk], send="now"
        )
    posts = actions.check_compose(
        users["sgt.hughes"],
        text=text,
        kind="result",
        account_ids=[masto.pk],
        send="now",
        override_reason="the number is the force's appeal line",
    )
    assert posts[0].overrides and posts[0].overrides[0]["check"] == "personal_data"
    assert AuditEvent.objects.filter(action="post.checks_overridden").exists()


def test_sub_judice_and_banned_words_come_from_the_force(masto, users, force):
    force.charged_names = "Darren Example"
    force.banned_words = "thug"
    force.save()
    findings = compose.findings_for(
        "Darren Example, the thug, is in court today", [masto], "result", force
    )
    assert {"sub_judice", "banned_words"} <= {f.check for f in findings if f.severity == "block"}


def test_an_officer_on_the_force_account_needs_approval(masto, users):
    posts = actions.check_compose(
        users["pcso.patel"], text=CLEAN, kind="event", account_ids=[masto.pk], send="now"
    )
    assert posts[0].status == "awaiting_approval"
    with pytest.raises(PermissionDenied):
        actions.check_compose(
            users["alex.analyst"], text=CLEAN, kind="event", account_ids=[masto.pk], send="now"
        )


def test_scheduled_posts_wait_for_their_time_and_for_the_emergency_stop(masto, users, force):
    later = now() + dt.timedelta(hours=2)
    (post,) = actions.check_compose(
        users["dana.desk"],
        text=CLEAN,
        kind="prevention",
        account_ids=[masto.pk],
        send="schedule",
        scheduled_for=later,
    )
    assert send_due_posts() == 0
    Post.objects.filter(pk=post.pk).update(scheduled_for=now() - dt.timedelta(minutes=1))
    actions.check_emergency_stop(users["sgt.hughes"], True, "critical incident")
    assert send_due_posts() == 0  # paused force-wide
    with pytest.raises(PermissionDenied):
        actions.check_emergency_stop(users["dana.desk"], False)
    actions.check_emergency_stop(users["sgt.hughes"], False)
    assert send_due_posts() == 1
    assert AuditEvent.objects.filter(action="publishing.paused").exists()


def test_the_composer_page_checks_and_the_calendar_lists(masto, client_for):
    desk = client_for("dana.desk")
    checked = desk.post(
        "/publishing/compose/",
        {
            "text": "A male was apprehended today",
            "kind": "result",
            "account": [masto.pk],
            "action": "check",
        },
    )
    assert b'data-check="tone"' in checked.content and b"of 500 characters" in checked.content
    desk.post(
        "/publishing/compose/",
        {"text": CLEAN, "kind": "event", "account": [masto.pk], "action": "draft"},
    )
    calendar = desk.get("/publishing/calendar/")
    assert b"PCSO surgery" in calendar.content


def test_a_send_lost_by_the_queue_is_handed_over_again_after_ten_minutes(masto, users):
    import time_machine

    (post,) = actions.check_compose(
        users["dana.desk"], text=CLEAN, kind="event", account_ids=[masto.pk], send="now"
    )
    assert send_due_posts() == 1
    with time_machine.travel(now() + dt.timedelta(minutes=11)):
        assert send_due_posts() == 1
    assert Post.objects.get(pk=post.pk).status == "scheduled"


def test_live_event_posts_wait_on_their_own_page_not_in_the_approvals_queue(masto, users):
    from beatdesk.publishing.queries import awaiting

    Post.objects.create(
        force=masto.force,
        account=masto,
        text="#wmp24 1: 14:32 concern for welfare, Kings Heath",
        kind=Post.Kind.LIVE,
        status=Post.Status.AWAITING_APPROVAL,
        group="live-1",
        idempotency_key="live-1",
    )
    assert awaiting(users["admin"]) == []
