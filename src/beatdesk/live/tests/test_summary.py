"""The event's summary (entries, posts by state, replies, follower change, a chart by hour)
and replies to its posts tagged with the event in the inbox."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from beatdesk.inbox.models import Message
from beatdesk.live import actions
from beatdesk.live.entries import read_entry
from beatdesk.live.models import FollowerSnapshot
from beatdesk.live.queries import summarise
from beatdesk.publishing.models import Post
from beatdesk.testing.fixtures import route

pytestmark = pytest.mark.django_db
MASTODON = "@westmerepolice@social.police.example"


def add(event, count: int):
    entries = [
        read_entry(
            {"time": f"1{i}:05", "type": "Noise", "location": "Canal Side", "outcome": "advice"},
            event,
            f"entry {i}",
            f"C2-{i}",
        )
        for i in range(count)
    ]
    return actions.do_add_entries(event, entries, "http", actor=None).created


@pytest.fixture
def running(event, deliver, account):
    """Four entries: one sent on Mastodon (two replies to it), one failed, the rest waiting;
    followers counted before and during the event."""
    entries = add(event, 4)
    mastodon = account(MASTODON)
    sent = entries[0].posts.get(account=mastodon)
    Post.objects.filter(pk=sent.pk).update(
        status="sent", external_id="113000000000000001", sent_at=event.starts_at
    )
    Post.objects.filter(pk=entries[1].posts.get(account=mastodon).pk).update(status="failed")
    for n, text in enumerate(["well done all", "what about the car alarm on Lock St?"]):
        received = deliver(
            {
                "id": f"1130000000000001{n}",
                "network": "mastodon",
                "author": f"@resident{n}@mastodon.example",
                "created_at": (event.starts_at + dt.timedelta(hours=1)).isoformat(),
                "text": text,
                "reply_to": "113000000000000001",
                "account": MASTODON,
            }
        )
        route(received.message_id)
    # A reply to some other post of the force is not the event's.
    unrelated = deliver(
        {
            "id": "11300000000000099",
            "network": "mastodon",
            "author": "@other@mastodon.example",
            "text": "unrelated",
            "reply_to": "999",
            "account": MASTODON,
        }
    )
    route(unrelated.message_id)
    for when, followers in [(-2, 70), (3, 400), (20, 1040), (30, 1200)]:
        FollowerSnapshot.objects.create(
            account=mastodon,
            taken_at=event.starts_at + dt.timedelta(hours=when),
            followers=followers,
        )
    return event


def test_the_summary_counts_entries_posts_replies_and_followers(running):
    summary = summarise(running)
    assert summary.entries == 4
    assert (summary.sent, summary.failed, summary.pending, summary.awaiting) == (1, 1, 10, 10)
    assert summary.replies == 2
    [change] = summary.followers
    assert (change.first, change.last, change.change) == (70, 1040, 970)
    assert len(summary.per_hour) == 24
    assert sum(r for _, _, r in summary.per_hour) == 2


def test_the_event_page_shows_the_figures_and_the_replies(running, client_for):
    page = client_for("dana.desk").get(reverse("live:detail", args=[running.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-figure="replies">2<' in html
    assert "70 → 1040" in html and "(+970" in html
    assert "what about the car alarm" in html and "unrelated" not in html
    assert 'id="event-chart-data"' in html and "uPlot.iife.min.js" in html


def test_analysts_read_the_summary_but_do_not_run_the_event(running, client_for):
    client = client_for("alex.analyst")
    assert client.get(reverse("live:detail", args=[running.pk])).status_code == 200
    assert client.get(reverse("live:approvals", args=[running.pk])).status_code == 403
    assert client_for("ruth.iag").get(reverse("live:detail", args=[running.pk])).status_code == 403


def test_replies_are_tagged_with_the_event_in_the_inbox(running, client_for):
    client = client_for("dana.desk")
    reply = Message.objects.get(external_id="11300000000000010")
    other = Message.objects.get(external_id="11300000000000099")
    message_page = client.get(reverse("inbox:message", args=[reply.pk])).content.decode()
    assert 'class="net live-event"' in message_page and "#wmp24" in message_page
    assert "#wmp24" not in client.get(reverse("inbox:message", args=[other.pk])).content.decode()
    inbox = client.get(reverse("inbox:index")).content.decode()
    assert inbox.count('class="net live-event"') == 2


def test_the_command_prints_the_summary(running):
    out = io.StringIO()
    call_command("live", "summary", str(running.pk), stdout=out)
    said = out.getvalue()
    assert "entries 4; posts sent 1, pending 10 (awaiting approval 10), failed 1" in said
    assert "replies 2" in said and f"followers Mastodon {MASTODON}: 70 -> 1040" in said


def test_the_demo_has_a_live_event_with_entries_waiting(force):
    from beatdesk.live.demo import ENTRIES, seed_live_event

    event = seed_live_event(force)
    assert event.hashtag == "#wmp24"
    assert {a.kind for a in event.accounts.all()} == {"x", "bluesky", "mastodon"}
    assert 1 <= event.entries.count() <= ENTRIES
    assert summarise(event).awaiting == 3 * event.entries.count()
