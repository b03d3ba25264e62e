"""Sending in the background, so a slow network never holds up the desk."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django_tasks import task

from beatdesk.core.clock import now
from beatdesk.publishing.models import Post
from beatdesk.publishing.sender import SendRefused, do_send


@task()
def send_post(post_id: int) -> None:
    post = Post.objects.select_related("account", "in_reply_to", "force").filter(pk=post_id).first()
    if post is None:
        return
    if post.in_reply_to_id is None and post.force.publishing_paused:
        return  # stays scheduled: it goes when the emergency stop is lifted
    was_sent = post.status == Post.Status.SENT
    try:
        do_send(post)
    except SendRefused as exc:
        Post.objects.filter(pk=post_id).update(status=Post.Status.FAILED, error=str(exc)[:500])
        return
    if post.status == Post.Status.SENT and not was_sent:
        _next_part_later(post)


def _next_part_later(post: Post) -> None:
    """A thread's next part goes as soon as the part it answers is out (after the commit)."""
    following = Post.objects.filter(previous_part=post, status=Post.Status.SCHEDULED).first()
    if following is not None:
        pk = following.pk
        transaction.on_commit(lambda: send_post.enqueue(pk))


# A send handed to the workers is not handed over again for this long, unless it is lost.
REQUEUE_AFTER = dt.timedelta(minutes=10)


def send_due_posts() -> int:
    """Hand every scheduled post whose time has come to the workers, once (run each round by
    poll or the demo). A send still queued ten minutes on is handed over again: the
    sender's claim makes sure the post goes out only once."""
    from django.db.models import Q

    moment = now()
    due = list(
        Post.objects.filter(status=Post.Status.SCHEDULED, scheduled_for__lte=moment)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=moment - REQUEUE_AFTER))
        .filter(Q(in_reply_to__isnull=False) | Q(force__publishing_paused=False))
        .filter(Q(previous_part__isnull=True) | Q(previous_part__status=Post.Status.SENT))
        .values_list("pk", flat=True)[:500]
    )
    Post.objects.filter(pk__in=due).update(queued_at=moment)
    for pk in due:
        send_post.enqueue(pk)
    return len(due)
