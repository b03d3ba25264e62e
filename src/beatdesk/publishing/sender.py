"""Sending: the one way anything leaves the desk for a network.

Every network inherits the same guards: an internal note is never sent, a post is sent
at most once however often a send is retried (a database claim plus the network's
idempotency key), and every send is recorded as a disclosure with its recipient.
"""

from __future__ import annotations

from django.db import transaction

from beatdesk.audit.actions import Category, record, record_system
from beatdesk.core.clock import now
from beatdesk.networks.base import (
    MediaItem,
    Network,
    NetworkRefused,
    NotSupported,
    PostOptions,
    TransientError,
)
from beatdesk.networks.registry import UnknownNetwork, connector
from beatdesk.publishing.models import Post

SENDABLE = (Post.Status.DRAFT, Post.Status.SCHEDULED, Post.Status.FAILED)


class SendRefused(Exception):
    """The post may not be sent (internal note, awaiting approval, network cannot publish)."""


def _reply_target(post: Post, network: Network) -> str:
    """What the network needs to answer: the item's id, or more where it says so."""
    previous = post.previous_part
    if previous is not None:
        return previous.external_id  # a thread's part answers the part before it
    message = post.in_reply_to
    if message is None:
        return ""
    return network.reply_target(message.external_id, message.author_handle, message.text)


def post_options(post: Post, network: Network | None = None) -> PostOptions:
    """Everything the post carries besides its text, fixed by the post itself so that every
    attempt to send it is the same (its key, when it was written, its part)."""
    media = list(post.media.all()) if post.pk else []
    return PostOptions(
        reply_to=_reply_target(post, network or connector(post.account.kind)),
        idempotency_key=post.idempotency_key,
        media=tuple(
            MediaItem(bytes(m.data), m.filename, m.content_type, m.alt_text) for m in media
        ),
        created_at=post.created_at,
        part=post.part,
    )


def record_sent(post: Post, justification: str = "") -> None:
    """The disclosure: what went to whom, recorded in the sending transaction."""
    record(
        post.author,
        Category.DISCLOSURE,
        "post.sent",
        post,
        recipient=f"{post.account.kind}:{post.account.handle} (public)",
        payload=post.text,
        justification=justification,
    )


def do_send(post: Post) -> Post:
    if post.internal:
        raise SendRefused("an internal note is never sent to a network")
    if post.status in (Post.Status.SENT, Post.Status.SENDING):
        return post  # out, or another worker has it: sending again would post twice
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
    previous = post.previous_part
    if previous is not None and (previous.status != Post.Status.SENT or not previous.external_id):
        return post  # a thread's part waits for the part it answers
    # Claim the post: of two workers retrying the same send, only one goes on. The time of
    # the claim lets a send stuck by a worker that died be found and recovered.
    claimed = Post.objects.filter(pk=post.pk, status__in=SENDABLE).update(
        status=Post.Status.SENDING, error="", claimed_at=now()
    )
    if not claimed:
        post.refresh_from_db()
        return post
    options = post_options(post, network)
    try:
        external_id = _arrived_before(post, network, options) or network.publish(
            post.account, post.text, options
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
        record_sent(post)
    return post


def _arrived_before(post: Post, network: Network, options: PostOptions) -> str:
    """A failed send may have arrived (a timeout after the network took it): where the
    network can say so (a record key fixed in advance), trying again never posts twice."""
    if post.status != Post.Status.FAILED:
        return ""
    return network.sent_before(post.account, options)
