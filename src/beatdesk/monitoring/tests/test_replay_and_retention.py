"""Replaying a recorded incident through a watch, and deleting what watches collected when
the operation's retention ends unless a case holds it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from beatdesk.accounts.models import Force, Team, User
from beatdesk.audit.models import AuditEvent
from beatdesk.cases.models import Case
from beatdesk.core.clock import now
from beatdesk.inbox.models import Message
from beatdesk.monitoring.actions import check_hold_posts, purge_expired_operations
from beatdesk.monitoring.models import Operation, Watch, WatchPost
from beatdesk.monitoring.signals import posts_collected

pytestmark = pytest.mark.django_db(transaction=True)

PHEME_SHAPED = Path(__file__).resolve().parent / "fixtures" / "pheme_shaped.jsonl"


@pytest.fixture
def announced() -> Iterator[list[list[int]]]:
    seen: list[list[int]] = []

    def receiver(sender: Any, watch_post_ids: list[int], **kwargs: Any) -> None:
        seen.append(list(watch_post_ids))

    posts_collected.connect(receiver, weak=False)
    yield seen
    posts_collected.disconnect(receiver)


def replay(*args: str) -> str:
    out = StringIO()
    call_command("replay", str(PHEME_SHAPED), "--no-progress", *args, stdout=out)
    return out.getvalue()


def test_replay_through_a_watch_stores_its_posts_in_time_order_not_the_inbox(
    make_watch: Callable[..., Watch], announced: list[list[int]]
) -> None:
    watch = make_watch(name="Standoff replay")
    inbox_before = Message.objects.count()
    output = replay("--watch", "Standoff replay", "--fast")
    assert "20 stored" in output and "Op Lantern" in output
    assert Message.objects.count() == inbox_before
    posts = list(WatchPost.objects.filter(watch=watch).order_by("pk"))
    assert len(posts) == 20
    times = [p.posted_at for p in posts]
    assert times == sorted(times)  # stored in the file's time order, not its line order
    assert times[0] == dt.datetime(2015, 1, 7, 11, 6, 8, tzinfo=dt.UTC)
    first = json.loads(posts[0].raw)
    assert first["event"] == "westmerestandoff" and first["label"] == "non-rumour"
    assert "in_reply_to_status_id" in first and "veracity" in first
    assert posts[0].language == "en" and posts[0].network == "replay"
    assert sorted(i for batch in announced for i in batch) == [p.pk for p in posts]

    again = replay("--watch", "Standoff replay", "--fast")
    assert "20 duplicate" in again
    assert WatchPost.objects.filter(watch=watch).count() == 20


def test_a_paced_replay_of_one_event_sends_posts_collected_per_batch(
    make_watch: Callable[..., Watch], announced: list[list[int]]
) -> None:
    watch = make_watch(name="Tiger")
    replay("--watch", "Tiger", "--event", "tigerloose", "--speed", "600")
    texts = list(
        WatchPost.objects.filter(watch=watch).order_by("posted_at").values_list("text", flat=True)
    )
    assert len(texts) == 4 and texts[0].startswith("Lion seen")
    assert len(announced) > 1  # the posts arrived as the replayed clock reached them


def test_replay_needs_an_approved_watch_that_exists(make_watch: Callable[..., Watch]) -> None:
    make_watch(name="Waiting", status=Watch.Status.AWAITING_APPROVAL)
    with pytest.raises(CommandError, match="awaiting approval"):
        replay("--watch", "Waiting", "--fast")
    with pytest.raises(CommandError, match="no watch named"):
        replay("--watch", "Nowhere", "--fast")
    assert not WatchPost.objects.exists()


def test_retention_deletes_collected_posts_unless_a_case_holds_them(
    force: Force, users: dict[str, User], operation: Operation, make_watch: Callable[..., Watch]
) -> None:
    watch = make_watch(name="Standoff replay")
    replay("--watch", "Standoff replay", "--fast")
    case = Case.objects.create(
        force=force,
        reference="BD-2026-000900",
        title="Threats at the carnival",
        team=Team.objects.get(force=force, slug="digital-desk"),
        created_by=users["dana.desk"],
    )
    kept = list(
        WatchPost.objects.filter(watch=watch).order_by("pk").values_list("pk", flat=True)[:2]
    )
    assert check_hold_posts(users["dana.desk"], watch, kept, case) == 2

    assert purge_expired_operations() == []  # retention has not ended: nothing goes
    Operation.objects.filter(pk=operation.pk).update(
        retention_until=now() - dt.timedelta(minutes=1)
    )
    purged = purge_expired_operations()
    assert [(p.deleted, p.held) for p in purged] == [(18, 2)]
    assert sorted(WatchPost.objects.values_list("pk", flat=True)) == kept
    event = AuditEvent.objects.get(action="operation.retention_purged")
    assert event.category == "erasure" and event.actor_label == "system:retention"
    assert "18 collected post(s) deleted, 2 kept" in event.justification
    assert purge_expired_operations() == []


def test_watches_command_lists_collects_and_purges(
    operation: Operation, make_watch: Callable[..., Watch]
) -> None:
    make_watch(name="Standoff replay")
    replay("--watch", "Standoff replay", "--fast")
    out = StringIO()
    call_command("watches", "list", stdout=out)
    assert "Op Lantern / Standoff replay: collecting" in out.getvalue()
    assert "20 post(s) kept" in out.getvalue()
    out = StringIO()
    call_command("watches", "collect", "--once", stdout=out)
    assert (
        "no watch searches a network now" in out.getvalue()
    )  # a replay watch is fed by replay only
    Operation.objects.filter(pk=operation.pk).update(
        retention_until=now() - dt.timedelta(minutes=1)
    )
    out = StringIO()
    call_command("watches", "purge", stdout=out)
    assert "Op Lantern: 20 collected post(s) deleted, 0 kept" in out.getvalue()
