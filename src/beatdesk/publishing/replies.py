"""Replying from the desk: templates, length per network, approval by role, then the sender."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from beatdesk.accounts.access import check_visible, refuse
from beatdesk.accounts.models import Role
from beatdesk.accounts.policy import MESSAGE_WRITERS, is_active_staff
from beatdesk.audit.actions import Category, record
from beatdesk.inbox.models import Message
from beatdesk.inbox.queries import visible_messages
from beatdesk.publishing.checks import LIMITS, count_characters
from beatdesk.publishing.compose import needs_approval
from beatdesk.publishing.models import Post, ReplyTemplate
from beatdesk.publishing.queries import visible_posts

if TYPE_CHECKING:
    from beatdesk.accounts.models import User

__all__ = ["LIMITS", "check_reply", "fill"]


def fill(template: ReplyTemplate, message: Message, user: User) -> str:
    force = message.account.force
    case = message.cases.order_by("-created_at").first()
    fields = {
        "author": message.author_handle if message.author_handle.startswith("@") else "",
        "officer": user.display_name,
        "reference": case.reference if case else "",
        "non_emergency": force.non_emergency_number,
        "online_reporting": force.online_reporting_url,
    }
    try:
        return template.text.format(**fields).strip()
    except (KeyError, IndexError, ValueError) as exc:
        raise ValidationError(
            f"the template '{template.name}' has an unknown field: {exc}"
        ) from exc


def check_reply(user: User, message_id: int, text: str) -> Post:
    if not is_active_staff(user) or user.role not in MESSAGE_WRITERS:
        refuse(user, "inbox.message", message_id, "this role cannot reply")
    check_visible(
        user,
        visible_messages(user),
        message_id,
        object_type="inbox.message",
        hidden="the message is outside the user's teams",
    )
    message = visible_messages(user).select_related("account__force").get(pk=message_id)
    text = (text or "").strip()
    if not text:
        raise ValidationError("write the reply first")
    limit = LIMITS.get(message.account.kind)
    length = count_characters(text, message.account.kind)
    if limit is not None and length > limit:
        raise ValidationError(
            f"{length} characters: {message.account.get_kind_display()} allows {limit}"
        )
    status = (
        Post.Status.AWAITING_APPROVAL
        if needs_approval(user, message.account)
        else Post.Status.SCHEDULED
    )
    with transaction.atomic():
        post = Post.objects.create(
            force=message.account.force,
            account=message.account,
            author=user,
            text=text,
            in_reply_to=message,
            status=status,
            idempotency_key=uuid.uuid4().hex,
        )
        record(user, Category.ALTERATION, "reply.written", post, justification=status)
        from beatdesk.inbox.work import acknowledge

        acknowledge(message)
        if status == Post.Status.SCHEDULED:
            transaction.on_commit(lambda: _send_later(post.pk))
    return post


def _check_post(user: User, post_id: int) -> None:
    check_visible(
        user,
        visible_posts(user),
        post_id,
        object_type="publishing.post",
        hidden="the post is another team's or another force's",
    )


def check_approve(user: User, post_id: int) -> Post:
    if user.role not in (Role.SUPERVISOR, Role.ADMINISTRATOR) or not is_active_staff(user):
        refuse(user, "publishing.post", post_id, "only supervisors approve replies")
    _check_post(user, post_id)
    post = Post.objects.filter(pk=post_id, force=user.force).first()
    if post is None or post.status != Post.Status.AWAITING_APPROVAL:
        raise ValidationError("there is no reply awaiting approval here")
    with transaction.atomic():
        Post.objects.filter(pk=post.pk).update(status=Post.Status.SCHEDULED)
        record(user, Category.ALTERATION, "reply.approved", post)
        transaction.on_commit(lambda: _send_later(post.pk))
    post.refresh_from_db()
    return post


def check_retry(user: User, post_id: int) -> Post:
    if not is_active_staff(user) or user.role not in MESSAGE_WRITERS:
        refuse(user, "publishing.post", post_id, "this role cannot send")
    _check_post(user, post_id)
    post = Post.objects.filter(pk=post_id, force=user.force, status=Post.Status.FAILED).first()
    if post is None:
        raise ValidationError("only a failed reply can be tried again")
    with transaction.atomic():
        record(user, Category.ALTERATION, "reply.retried", post)
        transaction.on_commit(lambda: _send_later(post.pk))
    return post


def _send_later(post_id: int) -> None:
    from beatdesk.publishing.tasks import send_post

    send_post.enqueue(post_id)
