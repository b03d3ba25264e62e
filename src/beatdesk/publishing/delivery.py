"""Delivery after the send: exactly once across restarts, outcomes per network, editing and
deleting what went out, and appeals due for review.

A worker that dies after claiming a post (status "sending") leaves it stuck. At worker start
and in every poll round, posts stuck longer than BEATDESK_SENDING_TIMEOUT seconds (300 by
default) are recovered, each network by the strongest guarantee it offers (GUARANTEES):

* Mastodon honours the Idempotency-Key header for about an hour: within that hour the post is
  sent again with the same key and the instance answers with the status it already made.
  Later than that, a person checks.
* Bluesky: each post's record key (a TID) is fixed before it is sent, so the record is looked
  up with com.atproto.repo.getRecord; found, it is marked sent; not found, sent again with
  the same key (a second create with that key could never make a second post).
* X takes no idempotency key: the account's own recent posts are searched for the text; found,
  marked sent; not found, sent again. If the timeline cannot be read, a person checks.
* Facebook (and anything else): the network cannot say, so a person checks the Page, then
  marks the post sent or sends it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q, QuerySet

from beatdesk.accounts.models import Role
from beatdesk.audit.actions import Category, record_system
from beatdesk.core.clock import now
from beatdesk.networks.base import NetworkRefused, TransientError
from beatdesk.networks.registry import connector
from beatdesk.publishing.models import Post
from beatdesk.publishing.sender import record_sent

if TYPE_CHECKING:
    from beatdesk.accounts.models import Force

GUARANTEES = {
    "mastodon": "Exactly once: sent again with the same Idempotency-Key (kept for an hour by "
    "the instance); after an hour, a person checks.",
    "bluesky": "Exactly once: the record key is fixed in advance, so the post is looked up "
    "before it is ever sent again.",
    "x": "Once, by looking: X takes no idempotency key, so the account's recent posts are "
    "searched for the text before sending again; if they cannot be read, a person checks.",
    "facebook": "A person checks: Facebook cannot say whether a post whose answer was lost "
    "arrived.",
}
EDITABLE = frozenset({"mastodon"})  # PUT /api/v1/statuses/:id; Bluesky and X offer no edit
DELETABLE = frozenset({"mastodon", "bluesky", "x"})
MASTODON_KEY_WINDOW = dt.timedelta(minutes=55)  # Mastodon keeps an Idempotency-Key an hour
X_RECENT = 20
DEFAULT_SENDING_TIMEOUT = 300.0
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
SENDERS = frozenset({Role.OFFICER, Role.DESK_OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR})
REMOVERS = frozenset({Role.DESK_OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR})


def sending_timeout() -> dt.timedelta:
    raw = os.environ.get("BEATDESK_SENDING_TIMEOUT", "")
    try:
        seconds = float(raw) if raw else DEFAULT_SENDING_TIMEOUT
    except ValueError:
        seconds = DEFAULT_SENDING_TIMEOUT
    return dt.timedelta(seconds=max(seconds, 0.0))


def bluesky_rkey(post: Post) -> str:
    """A TID (13 characters, base32-sortable: 53 bits of microseconds, 10 of clock id) fixed
    by the post itself, so every attempt to send it names the same record."""
    created = post.created_at or now()
    micros = int(created.timestamp() * 1_000_000) + post.part
    clock = int(hashlib.sha256(post.idempotency_key.encode()).hexdigest()[:4], 16) & 0x3FF
    value = ((micros & ((1 << 53) - 1)) << 10) | clock
    return "".join(_TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


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
    kind = post.account.kind
    if kind == "mastodon":
        if post.claimed_at is not None and now() - post.claimed_at < MASTODON_KEY_WINDOW:
            return _resend(post, "the same Idempotency-Key")
        return _to_check(post, "the Idempotency-Key has expired: check the account's posts")
    if kind == "bluesky":
        uri = connector("bluesky").find_post(post.account, bluesky_rkey(post))  # type: ignore[attr-defined]
        if uri:
            return _found(post, uri)
        return _resend(post, "no record with its key: sent with the same key")
    if kind == "x":
        try:
            found = _x_find_recent(post)
        except NetworkRefused as exc:
            return _to_check(post, f"X's timeline could not be read ({exc})")
        if found:
            return _found(post, found)
        return _resend(post, "not on the account's recent posts")
    return _to_check(
        post, f"{post.account.get_kind_display()} cannot say whether it arrived: check there"
    )


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


def _x_credentials(post: Post) -> tuple[dict[str, Any], str]:
    from beatdesk.networks.x.client import DEFAULT_API_BASE

    credentials = post.account.get_credentials()
    base = str(credentials.get("api_base") or DEFAULT_API_BASE).rstrip("/")
    return credentials, base


def _x_find_recent(post: Post) -> str | None:
    """The id of the account's recent post with this text (GET /2/users/:id/tweets)."""
    from beatdesk.networks.x.client import request

    credentials, base = _x_credentials(post)
    token = credentials.get("user_access_token") or credentials.get("bearer_token")
    user_id = str(credentials.get("user_id") or "")
    if not token or not user_id:
        raise NetworkRefused("the account needs a token and its numeric user_id")
    answer = request(
        "GET",
        f"{base}/2/users/{user_id}/tweets",
        token=str(token),
        what="reading the account's recent posts",
        params={"max_results": str(X_RECENT)},
    )
    wanted = " ".join(post.text.split())
    for item in answer.data.get("data") or []:
        if isinstance(item, dict) and " ".join(str(item.get("text", "")).split()) == wanted:
            return str(item.get("id") or "") or None
    return None


def _delete_on_network(post: Post) -> None:
    kind = post.account.kind
    if kind == "mastodon":
        from beatdesk.networks.mastodon.client import client_for

        client_for(post.account).request("DELETE", f"/api/v1/statuses/{post.external_id}")
    elif kind == "bluesky":
        connector("bluesky").delete_post(post.account, post.external_id)  # type: ignore[attr-defined]
    elif kind == "x":
        from beatdesk.networks.x.client import PUBLISH_TIMEOUT, request

        credentials, base = _x_credentials(post)
        request(
            "DELETE",
            f"{base}/2/tweets/{post.external_id}",
            token=str(credentials.get("user_access_token") or ""),
            what="deleting a post",
            timeout=PUBLISH_TIMEOUT,
        )


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
