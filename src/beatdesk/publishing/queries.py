"""Reading publishing: a group's posts and their outcomes, replies to our posts, what waits
for approval, and the month's calendar."""

from __future__ import annotations

import calendar as cal
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone

from beatdesk.inbox.models import Message
from beatdesk.inbox.queries import visible_messages
from beatdesk.publishing.approvals import may_approve
from beatdesk.publishing.delivery import DELETABLE, EDITABLE, GUARANTEES
from beatdesk.publishing.models import Post

if TYPE_CHECKING:
    from beatdesk.accounts.models import User
    from beatdesk.networks.models import NetworkAccount


@dataclass
class Outcome:
    """One account's share of a group: its post (and a thread's further parts)."""

    account: NetworkAccount
    posts: list[Post]
    guarantee: str
    can_edit: bool
    can_delete: bool

    @property
    def status(self) -> str:
        states = {p.status for p in self.posts}
        for state in ("failed", "check", "sending", "awaiting_approval", "returned", "draft"):
            if state in states:
                return state
        return self.posts[0].status


def outcomes(posts: list[Post]) -> list[Outcome]:
    by_account: dict[int, Outcome] = {}
    for post in posts:
        kind = post.account.kind
        entry = by_account.setdefault(
            post.account_id,
            Outcome(
                post.account,
                [],
                GUARANTEES.get(kind, GUARANTEES["facebook"]),
                kind in EDITABLE,
                kind in DELETABLE,
            ),
        )
        entry.posts.append(post)
    return list(by_account.values())


def replies_to(user: User, posts: list[Post]) -> QuerySet[Message]:
    """Messages in the inbox (that this person may see) answering any of these posts."""
    ids = [p.external_id for p in posts if p.external_id]
    return (
        visible_messages(user)
        .filter(reply_to_external_id__in=ids, network__in={p.account.kind for p in posts})
        .order_by("created_at")
    )


def our_post_answered(message: Message) -> Post | None:
    """The force's own post that an inbox message replies to, if it is one of ours."""
    if not message.reply_to_external_id:
        return None
    # Ids are unique within a network; a replayed message names its network itself.
    return (
        Post.objects.filter(
            force_id=message.account.force_id,
            account__kind=message.network,
            external_id=message.reply_to_external_id,
        )
        .select_related("account")
        .first()
    )


def awaiting(user: User) -> list[Post]:
    """The first post of every group waiting for a step this person may take."""
    posts = (
        Post.objects.filter(force=user.force, status=Post.Status.AWAITING_APPROVAL)
        .exclude(author=user)
        .select_related("account", "author")
        .order_by("created_at")
    )
    seen: dict[str, Post] = {}
    for post in posts:
        step = post.next_approver_role  # "" for live-event posts: their own page approves them
        if step and may_approve(user.role, step):
            seen.setdefault(post.group, post)
    return list(seen.values())


@dataclass
class Day:
    date: dt.date
    in_month: bool
    posts: list[Post] = field(default_factory=list)


def month_grid(user: User, year: int, month: int) -> list[list[Day]]:
    """Weeks (Monday first) of the month with the posts scheduled or published each day."""
    weeks = cal.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1]
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(first, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    posts = (
        Post.objects.filter(
            force=user.force,
            in_reply_to__isnull=True,
            part=1,
            scheduled_for__gte=start,
            scheduled_for__lt=end,
        )
        .exclude(kind=Post.Kind.REPLY)
        .select_related("account")
        .order_by("scheduled_for")
    )
    days = {d: Day(d, d.month == month) for week in weeks for d in week}
    for post in posts:
        when = timezone.localtime(post.sent_at or post.scheduled_for)
        if when.date() in days:
            days[when.date()].posts.append(post)
    return [[days[d] for d in week] for week in weeks]
