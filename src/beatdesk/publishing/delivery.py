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

from django.db import transaction
from django.db.models import Q, QuerySet

from beatdesk.accounts.models import Role
from beatdesk.audit.actions import Category, record_system
from beatdesk.core.clock import now
from beatdesk.networks.base import LostSend, NetworkRefused, TransientError
from beatdesk.networks.registry import connector
from beatdesk.publishing.models import Post
from beatdesk.publishing.sender import post_options, record_sent
from beatdesk.publishing.tasks import send_post

if TYPE_CHECKING:
    from beatdesk.accounts.models import Force

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
