"""Reading live events: the door to an event (visible_events, access_event, the intake's
token), an event's posts, the replies they drew, the entries awaiting approval, its summary."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count, Q, QuerySet

from beatdesk.accounts.access import guard, refuse
from beatdesk.accounts.models import Role
from beatdesk.accounts.policy import is_active_staff
from beatdesk.audit.actions import Category, record, record_system
from beatdesk.inbox.models import Message
from beatdesk.inbox.queries import visible_messages
from beatdesk.live.models import FollowerSnapshot, LiveEntry, LiveEvent
from beatdesk.publishing.models import Post

if TYPE_CHECKING:
    from beatdesk.accounts.models import User

PENDING = (Post.Status.AWAITING_APPROVAL, Post.Status.SCHEDULED, Post.Status.SENDING)
# Who runs a live event: creates it, imports the log, approves, edits and holds back posts.
MANAGERS = frozenset({Role.DESK_OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR})
# Who may read an event's summary.
READERS = MANAGERS | {Role.ANALYST}


# -- the door ----------------------------------------------------------------------------------


def may_read_events(user: User) -> bool:
    return is_active_staff(user) and user.role in READERS


def visible_events(user: User) -> QuerySet[LiveEvent]:
    """The live events this user may see: the force's, for the roles that read them."""
    if not may_read_events(user):
        return LiveEvent.objects.none()
    return LiveEvent.objects.filter(force=user.force)


def check_events_page(user: User, page: str, *, manage: bool = False) -> None:
    """Refuse (403, audited) a role that may not open this page of live events at all."""
    if not is_active_staff(user) or user.role not in (MANAGERS if manage else READERS):
        refuse(user, "live.liveevent", page, "this role does not run live events")


def access_event(
    user: User, event_id: int, *, manage: bool = False, purpose: str = ""
) -> LiveEvent:
    """The event, for this user to read (or, with manage, to run); refused and audited if not.
    With a purpose, a person reads it on a page: that reading is audited too."""
    guard(
        user,
        is_active_staff(user) and user.role in (MANAGERS if manage else READERS),
        visible_events(user),
        event_id,
        object_type="live.liveevent",
        refused="this role does not run live events",
        hidden="the live event is another force's",
    )
    event = visible_events(user).get(pk=event_id)
    if purpose:
        with transaction.atomic():
            record(user, Category.CONSULTATION, "live.event_viewed", event, justification=purpose)
    return event


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(event: LiveEvent, token: str) -> bool:
    """Whether `token` is the event's command-and-control token (compared in constant time)."""
    if not event.intake_token_hash or not token:
        return False
    return hmac.compare_digest(token_digest(token), event.intake_token_hash)


def access_intake_event(event_id: int, token: str) -> LiveEvent | None:
    """The event whose command-and-control token this is (the intake endpoint's door), or
    None; a wrong token for an event that exists is audited."""
    event = LiveEvent.objects.filter(pk=event_id).first()
    if event is not None and token_matches(event, token):
        return event
    if event is not None:
        with transaction.atomic():
            record_system(
                "live-intake",
                Category.AUTHORIZATION,
                "live.intake_refused",
                event,
                justification="wrong bearer token",
            )
    return None


def event_replies(user: User, event: LiveEvent, limit: int = 10) -> list[Message]:
    """The latest replies to the event's posts this user may see; reading them is audited."""
    replies = list(
        visible_messages(user)
        .filter(replies_filter(event))
        .select_related("account")
        .order_by("-received_at")[:limit]
    )
    if replies:
        with transaction.atomic():
            record(
                user,
                Category.CONSULTATION,
                "live.replies_viewed",
                event,
                justification=f"{len(replies)} replies on the event page",
            )
    return replies


def awaiting_entries(event: LiveEvent) -> QuerySet[LiveEntry]:
    """The event's entries with a post awaiting approval, oldest first."""
    return (
        event.entries.filter(posts__status=Post.Status.AWAITING_APPROVAL)
        .distinct()
        .order_by("number")
    )


def approval_page(user: User, event: LiveEvent, size: int) -> list[LiveEntry]:
    """The first page of entries awaiting approval, with the log line each came from
    (personal data: reading them is audited)."""
    page = list(awaiting_entries(event)[:size])
    if page:
        with transaction.atomic():
            record(
                user,
                Category.CONSULTATION,
                "live.entries_viewed",
                event,
                justification=f"approval queue, entries {page[0].number}-{page[-1].number}",
            )
    return page


def recent_entries(event: LiveEvent, limit: int = 20) -> QuerySet[LiveEntry]:
    return event.entries.prefetch_related("posts__account").order_by("-number")[:limit]


# -- what an event did -------------------------------------------------------------------------


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
