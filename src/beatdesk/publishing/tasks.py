"""Sending in the background, so a slow network never holds up the desk."""

from __future__ import annotations

from django_tasks import task


@task()
def send_post(post_id: int) -> None:
    from beatdesk.publishing.models import Post
    from beatdesk.publishing.sender import SendRefused, do_send

    post = Post.objects.select_related("account", "in_reply_to").filter(pk=post_id).first()
    if post is None:
        return
    try:
        do_send(post)
    except SendRefused as exc:
        Post.objects.filter(pk=post_id).update(status=Post.Status.FAILED, error=str(exc)[:500])
