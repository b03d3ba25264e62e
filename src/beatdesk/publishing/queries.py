"""Reading publishing: the door to posts (drafts included), a group's posts and their
outcomes, replies to our posts, what waits for approval, and the month's calendar."""

from __future__ import annotations

import calendar as cal
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from beatdesk.accounts.access import hide, refuse
from beatdesk.accounts.models import Role
from beatdesk.accounts.policy import is_active_staff, team_ids
from beatdesk.audit.actions import Category, record
from beatdesk.inbox.models import Message
from beatdesk.inbox.queries import visible_messages
from beatdesk.networks.registry import connector
from beatdesk.publishing.approvals import APPROVERS, may_approve
from beatdesk.publishing.compose import WRITERS
from beatdesk.publishing.delivery import due_appeals
from beatdesk.publishing.models import Post, PostVersion

if TYPE_CHECKING:
    from beatdesk.accounts.models import User
    from beatdesk.networks.models import NetworkAccount


# Who opens publishing's pages: the roles that write posts. Analysts and community
# advisers do not see drafts; analysts read what went out through analytics.
PUBLISHING_READERS = WRITERS


def may_read_posts(user: User) -> bool:
    return is_active_staff(user) and user.force_id is not None and user.role in PUBLISHING_READERS


def check_publishing_page(user: User, page: str) -> None:
    """Refuse (403, audited) a role that may not open publishing's pages at all."""
    if not may_read_posts(user):
        refuse(user, "publishing.post", page, "publishing is for the roles that write posts")


def check_approvals_page(user: User) -> None:
    if not (may_read_posts(user) and user.role in APPROVERS):
        refuse(user, "publishing.post", "approvals", "only supervisors and administrators approve")


def visible_posts(user: User) -> QuerySet[Post]:
    """Posts this user may see, drafts included: the force's for the desk, supervisors and
    administrators; for an officer, their own, those on their own or their teams' accounts,
    and whatever the force has already published."""
    if not may_read_posts(user):
        return Post.objects.none()
    force_posts = Post.objects.filter(force=user.force)
    if user.role != Role.OFFICER:
        return force_posts
    return force_posts.filter(
        Q(author=user)
        | Q(account__owner=user)
        | Q(account__owning_team_id__in=team_ids(user))
        | Q(status=Post.Status.SENT)
    )


def access_post(user: User, group: str, *, purpose: str) -> list[Post]:
    """The posts of one written-once group this user may see, for a person to read: checked
    against role and team, and audited. Another's draft answers as if it did not exist."""
    check_publishing_page(user, group)
    posts = list(
        visible_posts(user)
        .filter(group=group)
        .select_related("account", "author", "previous_part")
        .order_by("account__kind", "account__handle", "part")
    )
    if not posts:
        hide(
            user,
            "publishing.post",
            group,
            "the post is another team's draft",
            exists=Post.objects.filter(group=group).exists(),
        )
    with transaction.atomic():
        record(user, Category.CONSULTATION, "post.viewed", posts[0], justification=purpose)
    return posts


def group_posts(user: User, group: str) -> list[Post]:
    """The posts of one group this user may see, for an action on them (the caller audits
    what it changes)."""
    return list(
        visible_posts(user)
        .filter(group=group)
        .select_related("account", "author", "previous_part")
        .order_by("account__kind", "account__handle", "part")
    )


def versions_of(posts: list[Post]) -> QuerySet[PostVersion]:
    """The versions of a group already read through access_post (its audit covers them)."""
    return PostVersion.objects.filter(group=posts[0].group).select_related("by")


def audit_post_list(user: User, posts: list[Post], where: str) -> None:
    """A page listing posts (drafts among them) is one consultation of the posts shown."""
    ids = [p.pk for p in posts]
    if not ids:
        return
    with transaction.atomic():
        record(
            user,
            Category.CONSULTATION,
            "post.list",
            object_type="publishing.post",
            object_id=f"{min(ids)}..{max(ids)}",
            justification=where,
            payload=ids,
        )


def appeals_due(user: User) -> QuerySet[Post]:
    """Appeals whose review date has come, of those this user may see."""
    if not may_read_posts(user) or user.force is None:
        return Post.objects.none()
    return due_appeals(user.force).filter(pk__in=visible_posts(user).values("pk"))


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
        network = connector(post.account.kind)
        entry = by_account.setdefault(
            post.account_id,
            Outcome(
                post.account,
                [],
                network.recovery_guarantee,
                network.can_edit,
                network.can_delete,
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


def replies_drafted(user: User, message: Message) -> QuerySet[Post]:
    """The replies written to a message this person has opened (through access_message), for
    the roles that see drafts; none for the others."""
    if not may_read_posts(user):
        return Post.objects.none()
    return Post.objects.filter(in_reply_to__in=visible_messages(user).filter(pk=message.pk))


def promised_replies(user: User) -> QuerySet[Post]:
    """Replies not yet out to the messages this person may see: what the desk has promised
    (the hand-over); none for the roles that do not see drafts."""
    if not may_read_posts(user):
        return Post.objects.none()
    return Post.objects.filter(
        force=user.force,
        in_reply_to__in=visible_messages(user).values("pk"),
        status__in=["awaiting_approval", "scheduled", "sending", "failed", "draft"],
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
        visible_posts(user)
        .filter(status=Post.Status.AWAITING_APPROVAL)
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
        visible_posts(user)
        .filter(
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
