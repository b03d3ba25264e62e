"""One-click approval: approved entries are scheduled a pacing apart on each account and
sent by the scheduler; held-back entries never go out; edits must still fit; only the
desk, supervisors and administrators run an event."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from beatdesk.accounts.access import AccessRefused
from beatdesk.audit.models import AuditEvent
from beatdesk.core.clock import now
from beatdesk.live import actions
from beatdesk.live.entries import read_entry
from beatdesk.live.models import LiveEntry
from beatdesk.publishing.models import Post
from beatdesk.publishing.tasks import send_due_posts, send_post
from beatdesk.publishing.tests.fakes import FakeMastodon

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2024, 11, 22, 14, 0, tzinfo=dt.UTC)


def add(event, count: int, start: int = 0) -> list[LiveEntry]:
    entries = [
        read_entry(
            {
                "time": f"{9 + (i % 10)}:{i % 60:02d}",
                "type": "Concern for welfare",
                "location": "Kings Heath",
                "summary": f"caller John Smith on 07700 900{i:03d} worried about a neighbour",
                "outcome": "officers found the man safe",
            },
            event,
            f"entry {i}",
            f"C2-{i}",
        )
        for i in range(start, start + count)
    ]
    return actions.do_add_entries(event, entries, "http", actor=None).created


def statuses(entry: LiveEntry) -> set[str]:
    return set(entry.posts.values_list("status", flat=True))


@time_machine.travel(NOW, tick=False)
def test_approved_entries_are_scheduled_a_pacing_apart_on_each_account(event, users):
    entries = add(event, 3)
    approved = actions.check_approve(users["dana.desk"], event.pk, [e.pk for e in entries])
    assert approved == 3
    for account in event.accounts.all():
        times = list(
            Post.objects.filter(live_entries__event=event, account=account)
            .order_by("live_entries__number")
            .values_list("scheduled_for", flat=True)
        )
        assert times == [NOW, NOW + dt.timedelta(minutes=2), NOW + dt.timedelta(minutes=4)]
    # Later approvals queue behind the last one approved.
    [later] = add(event, 1, start=10)
    actions.check_approve(users["dana.desk"], event.pk, [later.pk])
    assert set(later.posts.values_list("scheduled_for", flat=True)) == {
        NOW + dt.timedelta(minutes=6)
    }
    assert AuditEvent.objects.filter(action="live.approved").count() == 2


@time_machine.travel(NOW, tick=False)
def test_the_scheduler_sends_only_what_is_due(event, users):
    entries = add(event, 2)
    actions.check_approve(users["sgt.hughes"], event.pk, [e.pk for e in entries])
    due = set(Post.objects.filter(status="scheduled", scheduled_for__lte=now()))
    assert due == set(entries[0].posts.all())


def test_an_approved_post_goes_out_once_on_the_network(make_event, users, account, fake_network):
    mastodon = FakeMastodon(fake_network)
    acct = account("@westmerepolice@social.police.example")
    acct.set_credentials(mastodon.credentials())
    acct.save()
    event, _ = make_event(handles=(acct.handle,))
    with time_machine.travel(event.starts_at + dt.timedelta(hours=9), tick=False):
        [entry] = add(event, 1)
        actions.check_approve(users["dana.desk"], event.pk, [entry.pk])
        [post] = entry.posts.all()
        send_post.call(post.pk)
        send_post.call(post.pk)
    post.refresh_from_db()
    assert post.status == "sent"
    assert mastodon.texts() == [entry.text]
    assert "07700" not in entry.text and "Smith" not in entry.text


def test_awaiting_posts_are_never_sent_by_the_scheduler(event):
    add(event, 2)
    assert send_due_posts() == 0


def test_held_back_entries_never_go_out(event, users):
    [entry, other] = add(event, 2)
    assert actions.check_hold_back(users["dana.desk"], event.pk, [entry.pk]) == 1
    assert statuses(entry) == {"draft"}
    assert actions.check_approve(users["dana.desk"], event.pk, [entry.pk, other.pk]) == 1
    assert statuses(entry) == {"draft"} and statuses(other) == {"scheduled"}


def test_an_edit_changes_every_accounts_post_and_must_fit(event, users):
    [entry] = add(event, 1)
    actions.check_edit(users["dana.desk"], event.pk, entry.pk, "#wmp24 1: 09:00 all fine")
    assert set(entry.posts.values_list("text", flat=True)) == {"#wmp24 1: 09:00 all fine"}
    with pytest.raises(ValidationError, match="X allows 280"):
        actions.check_edit(users["dana.desk"], event.pk, entry.pk, "x" * 290)
    actions.check_approve(users["dana.desk"], event.pk, [entry.pk])
    with pytest.raises(ValidationError, match="awaiting approval"):
        actions.check_edit(users["dana.desk"], event.pk, entry.pk, "too late")


@pytest.mark.parametrize("username", ["pcso.patel", "alex.analyst", "ruth.iag"])
def test_other_roles_cannot_approve(event, users, username):
    [entry] = add(event, 1)
    with pytest.raises(AccessRefused):
        actions.check_approve(users[username], event.pk, [entry.pk])
    assert statuses(entry) == {"awaiting_approval"}


def test_the_approval_page_lists_waiting_entries_and_approves_in_one_click(event, client_for):
    entries = add(event, 3)
    client = client_for("dana.desk")
    page = client.get(reverse("live:approvals", args=[event.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "awaiting approval" in html and "Approve all 3 visible" in html
    assert entries[0].text in html
    assert AuditEvent.objects.filter(action="live.entries_viewed").exists()
    done = client.post(
        reverse("live:decide", args=[event.pk]), {"entry": [entries[0].pk], "action": "approve"}
    )
    assert done.status_code == 302
    assert statuses(entries[0]) == {"scheduled"} and statuses(entries[1]) == {"awaiting_approval"}
    client.post(
        reverse("live:decide", args=[event.pk]),
        {"entry": [e.pk for e in entries[1:]], "action": "approve"},
    )
    after = client.get(reverse("live:approvals", args=[event.pk])).content.decode()
    assert "Nothing is awaiting approval" in after


def test_the_edit_form_saves_new_text(event, client_for):
    [entry] = add(event, 1)
    client = client_for("dana.desk")
    form = client.get(reverse("live:approvals", args=[event.pk]) + f"?edit={entry.pk}")
    assert 'name="text"' in form.content.decode()
    client.post(reverse("live:edit", args=[event.pk, entry.pk]), {"text": "#wmp24 1: quiet"})
    entry.refresh_from_db()
    assert entry.text == "#wmp24 1: quiet"


def test_a_new_event_from_the_desk_shows_its_token_once(force, client_for, account):
    client = client_for("dana.desk")
    response = client.post(
        reverse("live:new"),
        {
            "name": "Westmere 24",
            "hashtag": "wmp24",
            "starts_at": "2024-11-22T05:00",
            "hours": "24",
            "pacing": "3",
            "account": [account("@WestmerePolice").pk],
        },
    )
    assert response.status_code == 200
    assert "shown once" in response.content.decode()
    from beatdesk.live.models import LiveEvent

    event = LiveEvent.objects.get()
    assert event.hashtag == "#wmp24" and event.pacing_minutes == 3
    assert event.ends_at - event.starts_at == dt.timedelta(hours=24)
    refused = client_for("alex.analyst").get(reverse("live:new"))
    assert refused.status_code == 403


def test_the_approval_page_counts_new_entries_as_they_arrive(event, client_for):
    add(event, 2)
    client = client_for("dana.desk")
    page = client.get(reverse("live:approvals", args=[event.pk])).content.decode()
    assert f'hx-get="/live/{event.pk}/waiting/?shown=2"' in page
    add(event, 3, start=20)
    fragment = client.get(reverse("live:waiting", args=[event.pk]) + "?shown=2")
    assert "5 entries waiting" in fragment.content.decode()
    assert "3 new since this page loaded" in fragment.content.decode()
