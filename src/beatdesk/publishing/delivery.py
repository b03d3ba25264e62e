"""Delivery after the send: exactly once across restarts, outcomes per network, editing and
deleting what went out, and appeals due for review.

A worker that dies after claiming a post (status "sending") leaves it stuck. At worker start
and in every poll round, posts stuck longer than BEATDESK_SENDING_TIMEOUT seconds (300 by
default) are recovered, each by the strongest guarantee its network offers: the network
says how (`Network.recover`, described to the desk by `Network.recovery_guarantee`): it
finds the post and it is marked sent, or says sending again cannot post twice and it is
sent again, or cannot say and a person checks, then marks it sent or sends it again.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from beatdesk.accounts.access import refuse
from beatdesk.accounts.models import Role
from beatdesk.accounts.policy import is_active_staff
from beatdesk.audit.actions import Category, record, record_system
from beatdesk.core.clock import now
from beatdesk.networks.base import LostSend, NetworkRefused, TransientError
from beatdesk.networks.registry import connector
from beatdesk.publishing.models import Post
from beatdesk.publishing.sender import post_options, record_sent

if TYPE_CHECKING:
    from beatdesk.accounts.models import Force, User

DEFAULT_SENDING_TIMEOUT = 300.0
SENDERS = frozenset({Role.OFFICER, Role.DESK_OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR})
REMOVERS = frozenset({Role.DESK_OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR})


def sending_timeout() -> dt.timedelta:
    raw = os.environ.get("BEATDESK_SENDING_TIMEOUT", "")
    try:
        seconds = float(raw) if raw else DEFAULT_SENDING_TIMEOUT
    except ValueError:
        seconds = DEFAULT_SENDING_TIMEOUT
    return dt.timedelta(seconds=max(seconds, 0.0))


# --- recovery -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recovered:
    post_id: int
    network: str
    outcome: str  # "resent" | "found" | "check" | "later"
    detail: str = ""


def stuck_posts(timeout: dt.timedelta | None = None) -> QuerySet[Post]:
    cutoff = now() - (timeout if timeout is not None else sending_timeout())
    return Post.objects.filter(status=Post.Status.SENDING).filter(
        Q(claimed_at__lte=cutoff) | Q(claimed_at__isnull=True)
    )


def recover_stuck_posts(timeout: dt.timedelta | None = None) -> list[Recovered]:
    """Find posts a dead worker left "sending" and settle each one (see the module)."""
    results = []
    for post in stuck_posts(timeout).select_related("account", "force", "previous_part"):
        try:
            result = _recover(post)
        except (TransientError, NetworkRefused) as exc:
            result = Recovered(post.pk, post.account.kind, "later", str(exc)[:300])
        if result.outcome != "later":
            with transaction.atomic():
                record_system(
                    "delivery",
                    Category.ALTERATION,
                    "post.recovered",
                    post,
                    justification=f"{result.outcome}: {result.detail}"[:300],
                )
        results.append(result)
    return results


def _recover(post: Post) -> Recovered:
    """Settle one stuck post the way its network can (Network.recover)."""
    network = connector(post.account.kind)
    lost = LostSend(post.text, post_options(post), post.claimed_at)
    found = network.recover(post.account, lost)
    if found.outcome == "found":
        return _found(post, found.external_id)
    if found.outcome == "resend":
        return _resend(post, found.detail)
    return _to_check(post, found.detail)


def _claimed(post: Post) -> QuerySet[Post]:
    """The post, only while it is still stuck under the same claim (two recoverers agree)."""
    return Post.objects.filter(pk=post.pk, status=Post.Status.SENDING, claimed_at=post.claimed_at)


def _resend(post: Post, why: str) -> Recovered:
    if _claimed(post).update(status=Post.Status.SCHEDULED, error=""):
        from beatdesk.publishing.tasks import send_post

        send_post.enqueue(post.pk)
    return Recovered(post.pk, post.account.kind, "resent", why)


def _found(post: Post, external_id: str) -> Recovered:
    with transaction.atomic():
        if _claimed(post).update(
            status=Post.Status.SENT, external_id=external_id[:200], sent_at=now(), error=""
        ):
            record_sent(post, "found on the network after the worker stopped")
    return Recovered(post.pk, post.account.kind, "found", external_id)


def _to_check(post: Post, why: str) -> Recovered:
    _claimed(post).update(
        status=Post.Status.CHECK,
        error=f"The worker stopped while sending this. {why}, then mark it sent or send it."[:500],
    )
    return Recovered(post.pk, post.account.kind, "check", why)


# --- a person settles a post nobody can be sure of ---------------------------------------------


def check_resolve(user: User, post_id: int, on_network: bool, external_id: str = "") -> Post:
    """After checking the network: it is there (mark sent), or it is not (send it)."""
    if not is_active_staff(user) or user.role not in SENDERS:
        refuse(user, "publishing.post", post_id, "this role cannot send")
    post = Post.objects.filter(pk=post_id, force=user.force, status=Post.Status.CHECK).first()
    if post is None:
        raise ValidationError("only a post waiting to be checked can be settled here")
    with transaction.atomic():
        if on_network:
            Post.objects.filter(pk=post.pk).update(
                status=Post.Status.SENT, sent_at=now(), external_id=external_id.strip()[:200]
            )
            record(user, Category.ALTERATION, "post.confirmed_sent", post)
        else:
            Post.objects.filter(pk=post.pk).update(status=Post.Status.SCHEDULED, error="")
            record(user, Category.ALTERATION, "post.resend_after_check", post)
            from beatdesk.publishing.tasks import send_post

            pk = post.pk
            transaction.on_commit(lambda: send_post.enqueue(pk))
    post.refresh_from_db()
    return post


# --- edit and delete on the network -------------------------------------------------------------


def _published(user: User, post_id: int, roles: frozenset[str]) -> Post:
    if not is_active_staff(user) or user.role not in roles:
        refuse(user, "publishing.post", post_id, "this role cannot change published posts")
    post = (
        Post.objects.filter(pk=post_id, force=user.force, status=Post.Status.SENT)
        .select_related("account", "force")
        .first()
    )
    if post is None or not post.external_id:
        raise ValidationError("only a published post can be changed on the network")
    if user.role == Role.OFFICER and post.author_id != user.pk:
        refuse(user, "publishing.post", post_id, "officers change only their own posts")
    return post


def check_edit_published(user: User, post_id: int, text: str) -> Post:
    """Correct a published post where the network allows it (Network.can_edit), checks first."""
    post = _published(user, post_id, SENDERS)
    network = connector(post.account.kind)
    if not network.can_edit:
        raise ValidationError(
            f"{network.name} does not let a post be edited: delete it and post a correction"
        )
    text = (text or "").strip()
    from beatdesk.publishing.compose import findings_for

    blocks = [
        f
        for f in findings_for(text, [post.account], post.kind, post.force)
        if f.severity == "block"
    ]
    if not text or blocks:
        raise ValidationError(
            "the correction needs text and must pass the checks: "
            + "; ".join(f.message for f in blocks)
        )
    network.edit(post.account, post.external_id, text)
    with transaction.atomic():
        Post.objects.filter(pk=post.pk).update(text=text)
        record(
            user,
            Category.DISCLOSURE,
            "post.edited_on_network",
            post,
            recipient=f"{post.account.kind}:{post.account.handle} (public)",
            payload=text,
        )
    post.refresh_from_db()
    return post


def check_delete_published(user: User, post_id: int, reason: str) -> Post:
    """Delete a published post from its network (Network.can_delete), with a reason."""
    post = _published(user, post_id, REMOVERS | {Role.OFFICER})
    if not (reason or "").strip():
        raise ValidationError("say why the post is being deleted")
    network = connector(post.account.kind)
    if not network.can_delete:
        raise ValidationError(
            f"{network.name} posts are removed on the network itself, not from the desk"
        )
    network.delete(post.account, post.external_id)
    with transaction.atomic():
        Post.objects.filter(pk=post.pk).update(status=Post.Status.DELETED, withdrawn_at=now())
        record(user, Category.ERASURE, "post.deleted_on_network", post, justification=reason[:300])
    post.refresh_from_db()
    return post


# --- appeals due for review -------------------------------------------------------------------


def due_appeals(force: Force) -> QuerySet[Post]:
    """Appeals out (or going out) whose review date has come: one post per group."""
    today = now().date()
    return (
        Post.objects.filter(
            force=force,
            kind=Post.Kind.APPEAL,
            review_on__lte=today,
            withdrawn_at__isnull=True,
            part=1,
            status__in=(Post.Status.SENT, Post.Status.SCHEDULED, Post.Status.AWAITING_APPROVAL),
        )
        .select_related("account", "author")
        .order_by("review_on", "group", "account__kind")
    )


def remind_due_appeals() -> int:
    """Remind the desk, once a day, of every appeal whose review date has come (run by poll)."""
    today = now().date()
    due = Post.objects.filter(
        kind=Post.Kind.APPEAL,
        review_on__lte=today,
        withdrawn_at__isnull=True,
        part=1,
        status=Post.Status.SENT,
    ).filter(Q(reminded_on__isnull=True) | Q(reminded_on__lt=today))
    reminded = 0
    for post in due:
        with transaction.atomic():
            if (
                Post.objects.filter(pk=post.pk)
                .filter(Q(reminded_on__isnull=True) | Q(reminded_on__lt=today))
                .update(reminded_on=today)
            ):
                record_system(
                    "publishing",
                    Category.ALTERATION,
                    "appeal.review_due",
                    post,
                    justification=f"review date {post.review_on}: update or withdraw",
                )
                reminded += 1
    return reminded


def check_review_appeal(
    user: User, group: str, *, review_on: dt.date | None, withdraw_reason: str = ""
) -> list[Post]:
    """Keep an appeal running to a new review date, or withdraw it (deleted from every network
    that allows it; the others are listed for the desk to remove by hand)."""
    if not is_active_staff(user) or user.role not in REMOVERS | {Role.OFFICER}:
        refuse(user, "publishing.post", group, "this role cannot review appeals")
    posts = list(
        Post.objects.filter(force=user.force, group=group, kind=Post.Kind.APPEAL).select_related(
            "account"
        )
    )
    if not posts:
        raise ValidationError("no such appeal")
    if user.role == Role.OFFICER and posts[0].author_id != user.pk:
        refuse(user, "publishing.post", group, "officers review only their own appeals")
    if withdraw_reason.strip():
        for post in posts:
            if post.status == Post.Status.SENT and connector(post.account.kind).can_delete:
                check_delete_published(user, post.pk, f"appeal withdrawn: {withdraw_reason}")
        with transaction.atomic():
            Post.objects.filter(group=group, withdrawn_at__isnull=True).update(withdrawn_at=now())
            Post.objects.filter(
                group=group, status__in=(Post.Status.SCHEDULED, Post.Status.AWAITING_APPROVAL)
            ).update(status=Post.Status.DRAFT)
            record(
                user,
                Category.ALTERATION,
                "appeal.withdrawn",
                posts[0],
                justification=withdraw_reason[:300],
            )
        return posts
    if review_on is None or review_on <= now().date():
        raise ValidationError("choose a new review date in the future, or withdraw the appeal")
    with transaction.atomic():
        Post.objects.filter(group=group).update(review_on=review_on)
        record(
            user,
            Category.ALTERATION,
            "appeal.reviewed",
            posts[0],
            justification=f"kept running; next review {review_on}",
        )
    return posts
