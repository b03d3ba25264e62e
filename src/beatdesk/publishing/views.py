"""Replies from the message page: write (from a template), approve, try again."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from beatdesk.accounts.models import User
from beatdesk.publishing import replies
from beatdesk.publishing.models import Post


@login_required
@require_POST
def reply(request: HttpRequest, message_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        post = replies.check_reply(user, message_id, request.POST.get("text", ""))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        if post.status == Post.Status.AWAITING_APPROVAL:
            messages.success(request, "Reply saved: a supervisor approves it before it is sent.")
        else:
            messages.success(request, "Reply on its way: its state shows below.")
    return redirect("inbox:message", message_id)


@login_required
@require_POST
def approve(request: HttpRequest, post_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    post = Post.objects.filter(pk=post_id).first()
    try:
        replies.check_approve(user, post_id)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, "Approved: the reply is on its way.")
    return (
        redirect("inbox:message", post.in_reply_to_id)
        if post and post.in_reply_to_id
        else redirect("inbox:index")
    )


@login_required
@require_POST
def retry(request: HttpRequest, post_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    post = Post.objects.filter(pk=post_id).first()
    try:
        replies.check_retry(user, post_id)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, "Trying again.")
    return (
        redirect("inbox:message", post.in_reply_to_id)
        if post and post.in_reply_to_id
        else redirect("inbox:index")
    )
