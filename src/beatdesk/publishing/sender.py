"""Sending: the one way anything leaves the desk for a network.

Every network inherits the same guards: an internal note is never sent, a post is sent
at most once however often a send is retried (a database claim plus the network's
idempotency key), and every send is recorded as a disclosure with its recipient.
"""

from __future__ import annotations

from django.db import transaction

from beatdesk.audit.actions import Category, record, record_system
from beatdesk.core.clock import now
from beatdesk.networks.base import NetworkRefused, NotSupported, TransientError
from beatdesk.networks.registry import UnknownNetwork, connector
from beatdesk.publishing.models import Post

SENDABLE = (Post.Status.DRAFT, Post.Status.SCHEDULED, Post.Status.FAILED)


class SendRefused(Exception):
    """The post may not be sent (internal note, awaiting approval, network cannot publish)."""


def _reply_target(post: Post) -> str:
    """What the network needs to answer: the item's id; for email also whom and about what."""
    message = post.in_reply_to
    if message is None:
        return ""
    if post.account.kind == "email":
        first = message.text.split("\n", 1)[0]
        subject = first[len("Subject: ") :] if first.startswith("Subject: ") else ""
        return f"{message.external_id}|{message.author_handle}|{subject}"
    return message.external_id


def do_send(post: Post) -> Post:
    if post.internal:
        raise SendRefused("an internal note is never sent to a network")
    if post.status == Post.Status.SENT:
        return post  # already out: sending again would post twice
    if post.status not in SENDABLE:
        raise SendRefused(f"a post that is {post.get_status_display().lower()} cannot be sent")
    if post.in_reply_to_id is None and post.force.publishing_paused:
        raise SendRefused("publishing is paused force-wide (emergency stop)")
    try:
        network = connector(post.account.kind)
    except UnknownNetwork as exc:
        raise SendRefused(str(exc)) from exc
    if not network.can_publish:
        raise SendRefused(f"{post.account.kind} accounts cannot publish")
    # Claim the post: of two workers retrying the same send, only one goes on.
    claimed = Post.objects.filter(pk=post.pk, status__in=SENDABLE).update(
        status=Post.Status.SENDING, error=""
    )
    if not claimed:
        post.refresh_from_db()
        return post
    reply_to = _reply_target(post)
    try:
        external_id = network.publish(
            post.account, post.text, reply_to=reply_to, idempotency_key=post.idempotency_key
        )
    except (TransientError, NetworkRefused, NotSupported, ValueError) as exc:
        Post.objects.filter(pk=post.pk).update(status=Post.Status.FAILED, error=str(exc)[:500])
        with transaction.atomic():
            record_system(
                "sender",
                Category.DISCLOSURE,
                "post.send_failed",
                post,
                justification=str(exc)[:300],
            )
        post.refresh_from_db()
        return post
    with transaction.atomic():
        Post.objects.filter(pk=post.pk).update(
            status=Post.Status.SENT, external_id=external_id, sent_at=now()
        )
        post.refresh_from_db()
        record(
            post.author,
            Category.DISCLOSURE,
            "post.sent",
            post,
            recipient=f"{post.account.kind}:{post.account.handle} (public)",
            payload=post.text,
        )
    return post
