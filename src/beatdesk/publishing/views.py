"""Replies from the message page: write (from a template), approve, try again."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from beatdesk.accounts.models import User
from beatdesk.networks.registry import kinds
from beatdesk.publishing import actions
from beatdesk.publishing.approvals import APPROVERS
from beatdesk.publishing.compose import OVERRIDERS, Image, usable_accounts, variants_for
from beatdesk.publishing.models import Post
from beatdesk.publishing.post_types import post_templates
from beatdesk.publishing.queries import (
    appeals_due,
    audit_post_list,
    check_publishing_page,
    visible_posts,
)


@login_required
@require_POST
def reply(request: HttpRequest, message_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        post = actions.check_reply(user, message_id, request.POST.get("text", ""))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        if post.status == Post.Status.AWAITING_APPROVAL:
            messages.success(request, "Reply saved: a supervisor approves it before it is sent.")
        else:
            messages.success(request, "Reply on its way: its state shows below.")
    return redirect("inbox:message", message_id)


def _act_on_post(request: HttpRequest, post_id: int, act: Any, done: str) -> HttpResponse:
    """Approve or retry a post, then back to the message it answers (or the inbox)."""
    user: User = request.user  # type: ignore[assignment]
    try:
        post = act(user, post_id)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, done)
        if post.in_reply_to_id:
            return redirect("inbox:message", post.in_reply_to_id)
        return redirect("publishing:calendar")
    # Refused by a check: back to the message it answers, if this person may see it.
    post = visible_posts(user).filter(pk=post_id).first()
    if post is not None and post.in_reply_to_id:
        return redirect("inbox:message", post.in_reply_to_id)
    return redirect("publishing:calendar")


@login_required
@require_POST
def approve(request: HttpRequest, post_id: int) -> HttpResponse:
    return _act_on_post(
        request, post_id, actions.check_approve_reply, "Approved: it is on its way."
    )


@login_required
@require_POST
def retry(request: HttpRequest, post_id: int) -> HttpResponse:
    return _act_on_post(request, post_id, actions.check_retry_reply, "Trying again.")


def _compose_context(user: User, request: HttpRequest) -> dict[str, object]:
    return {
        "accounts": usable_accounts(user).select_related("owning_team"),
        "kinds": [c for c in Post.Kind.choices if c[0] != Post.Kind.REPLY],
        "can_override": user.role in OVERRIDERS,
        "paused": bool(user.force and user.force.publishing_paused),
        "values": request.POST if request.method == "POST" else request.GET,
        "chosen": [int(v) for v in request.POST.getlist("account") if v.isdigit()],
        "post_templates": post_templates(),
        "post_templates_json": {t.key: t.__dict__ for t in post_templates()},
        **_reminders(user),
    }


def _reminders(user: User) -> dict[str, object]:
    """Appeals due for review, shown on every publishing page, and who sees the approvals."""
    return {
        "due_appeals": appeals_due(user).values("group").distinct().count(),
        "may_approve_posts": user.role in APPROVERS,
    }


IMAGE_SLOTS = (1, 2)


def _images(request: HttpRequest) -> tuple[list[Any], dict[int, dict[str, str]]]:
    """The images in the composer's slots, and what to carry into the page shown again.

    A file input cannot be refilled by the page, so an image chosen before "Check" comes
    back as a hidden field (its bytes, base64) until it is saved or replaced. Nothing is
    stored on the server before the post is saved."""
    images: list[Any] = []
    slots: dict[int, dict[str, str]] = {}
    for n in IMAGE_SLOTS:
        alt = request.POST.get(f"alt_text{n}", "").strip()
        upload = request.FILES.get(f"image{n}")
        if upload is not None:
            name, kind = upload.name or f"image-{n}", upload.content_type or ""
            image = Image(name, kind, upload.read(), alt)
        else:
            image = _kept(request.POST.get(f"kept_image{n}", ""), alt)
        slots[n] = {"alt": alt}
        if image is None:
            continue
        images.append(image)
        kept = "|".join([image.filename, image.content_type, base64.b64encode(image.data).decode()])
        slots[n].update(filename=image.filename, kept=kept)
    return images, slots


def _kept(value: str, alt: str) -> Any:
    filename, _, rest = value.partition("|")
    content_type, _, data = rest.partition("|")
    if not (filename and data):
        return None
    try:
        return Image(filename, content_type, base64.b64decode(data, validate=True), alt)
    except (binascii.Error, ValueError):
        return None


def _when(raw: str) -> dt.datetime | None:
    from django.utils import timezone

    try:
        return timezone.make_aware(dt.datetime.fromisoformat(raw)) if raw else None
    except ValueError:
        return None


@login_required
def compose(request: HttpRequest) -> HttpResponse:
    """Write once; preview, edit and check a variant per network; then save, submit, schedule
    or publish."""
    from django.shortcuts import render

    user: User = request.user  # type: ignore[assignment]
    check_publishing_page(user, "compose")
    context = _compose_context(user, request)
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("account") if v.isdigit()]
        text = request.POST.get("text", "")
        kind = request.POST.get("kind", "update")
        thread = request.POST.get("thread") == "1"
        # A network's own version counts only when someone changed it: an untouched one
        # (the text as it was when the versions were shown) follows the main text.
        untouched = {text.strip(), request.POST.get("variants_base", "").strip(), ""}
        variants = {
            k: request.POST.get(f"variant_{k}", "")
            for k in kinds("starts_posts")
            if request.POST.get(f"variant_{k}", "").strip() not in untouched
        }
        images, context["image_slots"] = _images(request)
        accounts = list(usable_accounts(user).filter(pk__in=ids))
        planned = []
        if text.strip() and accounts:
            try:
                planned = variants_for(
                    user.force,
                    accounts,
                    text=text,
                    kind=kind,
                    variants=variants,
                    thread=thread,
                    media=images,
                )
            except ValidationError as exc:
                messages.error(request, "; ".join(exc.messages))
        context["planned"] = planned
        context["findings"] = list(dict.fromkeys(f for v in planned for f in v.findings))
        context["variants"] = variants
        if request.POST.get("action") != "check":
            review = request.POST.get("review_on") or None
            try:
                posts = actions.check_compose(
                    user,
                    text=text,
                    kind=kind,
                    account_ids=ids,
                    send=request.POST.get("action", "draft"),
                    scheduled_for=_when(request.POST.get("scheduled_for", "")),
                    override_reason=request.POST.get("override_reason", ""),
                    review_on=dt.date.fromisoformat(review) if review else None,
                    variants=variants,
                    thread=thread,
                    media=images,
                )
            except ValidationError as exc:
                messages.error(request, "; ".join(exc.messages))
            except ValueError:
                messages.error(request, "the review date is not a date")
            else:
                states = ", ".join(sorted({p.get_status_display().lower() for p in posts}))
                messages.success(request, f"{len(posts)} post(s) saved: {states}.")
                return redirect("publishing:post", posts[0].group)
    slots: dict[int, dict[str, str]] = context.get("image_slots") or {}  # type: ignore[assignment]
    context["image_rows"] = [(n, slots.get(n, {})) for n in IMAGE_SLOTS]
    return render(request, "publishing/compose.html", context)


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    """Scheduled and published posts by day, with the emergency stop for supervisors."""
    from itertools import groupby

    from django.shortcuts import render
    from django.utils import timezone

    user: User = request.user  # type: ignore[assignment]
    check_publishing_page(user, "calendar")
    posts = list(
        visible_posts(user)
        .filter(in_reply_to__isnull=True, part=1)
        .exclude(kind=Post.Kind.REPLY)
        .select_related("account", "author")
        .order_by("-scheduled_for", "-created_at")[:300]
    )
    audit_post_list(user, posts, "publishing calendar")
    days = [
        (day, list(items))
        for day, items in groupby(
            posts, key=lambda p: timezone.localtime(p.scheduled_for or p.created_at).date()
        )
    ]
    return render(
        request,
        "publishing/calendar.html",
        {
            "days": days,
            "paused": bool(user.force and user.force.publishing_paused),
            "can_stop": user.role in OVERRIDERS,
            **_reminders(user),
        },
    )


@login_required
@require_POST
def emergency_stop(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    paused = request.POST.get("paused") == "1"
    actions.check_emergency_stop(user, paused, request.POST.get("reason", ""))
    messages.success(
        request,
        "Emergency stop: nothing scheduled will go out until you resume."
        if paused
        else "Publishing resumed: scheduled posts go out at their times.",
    )
    return redirect("publishing:calendar")
