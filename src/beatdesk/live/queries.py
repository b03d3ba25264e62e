"""Reading live events: an event's posts, the replies they drew, and its summary."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from beatdesk.inbox.models import Message
from beatdesk.live.models import FollowerSnapshot, LiveEntry, LiveEvent
from beatdesk.publishing.models import Post

PENDING = (Post.Status.AWAITING_APPROVAL, Post.Status.SCHEDULED, Post.Status.SENDING)


def event_posts(event: LiveEvent) -> QuerySet[Post]:
    return Post.objects.filter(live_entries__event=event)


def replies_filter(event: LiveEvent) -> Q:
    """Messages that answer one of the event's published posts (on the same network)."""
    condition = Q(pk__in=[])
    sent = event_posts(event).filter(status=Post.Status.SENT).exclude(external_id="")
    for kind in sent.values_list("account__kind", flat=True).distinct():
        ids = sent.filter(account__kind=kind).values("external_id")
        condition |= Q(network=kind, reply_to_external_id__in=ids)
    return condition


def event_of_replies(messages: list[Message]) -> dict[int, LiveEvent]:
    """For each message that replies to a live event's post, that event (one query each for
    posts and events, however many messages)."""
    wanted = {m.reply_to_external_id for m in messages if m.reply_to_external_id}
    if not wanted:
        return {}
    rows = (
        Post.objects.filter(kind=Post.Kind.LIVE, status=Post.Status.SENT, external_id__in=wanted)
        .values_list("external_id", "account__kind", "live_entries__event")
        .distinct()
    )
    by_reply = {(external_id, kind): event_id for external_id, kind, event_id in rows if event_id}
    events = LiveEvent.objects.in_bulk(set(by_reply.values()))
    found = {}
    for message in messages:
        event_id = by_reply.get((message.reply_to_external_id, message.network))
        if event_id is not None and message.account.force_id == events[event_id].force_id:
            found[message.pk] = events[event_id]
    return found


@dataclass(frozen=True)
class FollowerChange:
    account: str
    first: int
    last: int
    first_at: dt.datetime
    last_at: dt.datetime

    @property
    def change(self) -> int:
        return self.last - self.first


@dataclass
class Summary:
    """An event in figures, for its page and `beatdesk live summary`."""

    entries: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    replies: int = 0
    followers: list[FollowerChange] = field(default_factory=list)
    per_hour: list[tuple[dt.datetime, int, int]] = field(default_factory=list)  # entries, replies

    @property
    def sent(self) -> int:
        return self.by_status.get(Post.Status.SENT, 0)

    @property
    def pending(self) -> int:
        return sum(self.by_status.get(s, 0) for s in PENDING)

    @property
    def awaiting(self) -> int:
        return self.by_status.get(Post.Status.AWAITING_APPROVAL, 0)

    @property
    def failed(self) -> int:
        return self.by_status.get(Post.Status.FAILED, 0)

    @property
    def held_back(self) -> int:
        return self.by_status.get(Post.Status.DRAFT, 0)


def follower_changes(event: LiveEvent) -> list[FollowerChange]:
    """Each event account's followers at the first and the last count taken in the event's
    period (the count just before it starts, if there is one, is its starting point)."""
    changes = []
    for account in event.accounts.order_by("kind", "handle"):
        snapshots = FollowerSnapshot.objects.filter(account=account)
        first = (
            snapshots.filter(taken_at__lte=event.starts_at).order_by("-taken_at").first()
            or snapshots.filter(taken_at__gte=event.starts_at).order_by("taken_at").first()
        )
        last = snapshots.filter(taken_at__lte=event.ends_at).order_by("-taken_at").first()
        if first is None or last is None or last.taken_at <= first.taken_at:
            continue
        changes.append(
            FollowerChange(
                f"{account.get_kind_display()} {account.handle}",
                first.followers,
                last.followers,
                first.taken_at,
                last.taken_at,
            )
        )
    return changes


def _hours(event: LiveEvent) -> list[dt.datetime]:
    start = event.starts_at.replace(minute=0, second=0, microsecond=0)
    hours: list[dt.datetime] = []
    while start < event.ends_at and len(hours) < 24 * 7:
        hours.append(start)
        start += dt.timedelta(hours=1)
    return hours


def summarise(event: LiveEvent) -> Summary:
    summary = Summary()
    summary.entries = event.entries.count()
    summary.by_status = dict(
        event_posts(event).values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    replies = Message.objects.filter(account__force_id=event.force_id).filter(replies_filter(event))
    summary.replies = replies.count()
    summary.followers = follower_changes(event)
    entry_hours = Counter(
        t.replace(minute=0, second=0, microsecond=0)
        for t in LiveEntry.objects.filter(event=event).values_list("occurred_at", flat=True)
    )
    reply_hours = Counter(
        t.replace(minute=0, second=0, microsecond=0)
        for t in replies.values_list("created_at", flat=True)
    )
    summary.per_hour = [(h, entry_hours.get(h, 0), reply_hours.get(h, 0)) for h in _hours(event)]
    return summary
