"""The Channels page and dead letters: is every network listening, is anything left unread,
and what could not be read (read again from here)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from beatdesk.accounts.access import refuse
from beatdesk.accounts.models import User
from beatdesk.accounts.policy import reads_force_wide
from beatdesk.audit.actions import Category, record
from beatdesk.inbox.actions import do_retry_payload
from beatdesk.inbox.models import InboundPayload
from beatdesk.monitoring.collect import do_reread_item
from beatdesk.networks.base import PayloadError
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import CONNECTORS
from beatdesk.operations import queries
from beatdesk.operations.sweep import backlog, grace, overdue


@login_required
def health(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not reads_force_wide(user):
        refuse(user, "networks.channelhealth", "*", "channel health is for the desk")
    accounts = (
        NetworkAccount.objects.filter(force=user.force)
        .select_related("health", "owning_team")
        .annotate(backlog=Count("messages", filter=Q(messages__routed_at__isnull=True)))
        .order_by("kind", "handle")
    )
    dead = queries.dead_letter_counts(user)
    rows = [
        {
            "account": a,
            "health": getattr(a, "health", None),
            "connected": a.kind in CONNECTORS,
            "dead_letters": dead.get(a.pk, 0),
        }
        for a in accounts
    ]
    late = overdue()
    return render(
        request,
        "networks/health.html",
        {
            "rows": rows,
            "backlog": backlog(),
            "overdue": late,
            "all_read": not any(late.values()),
            "grace_s": int(grace().total_seconds()),
        },
    )


@login_required
def dead_letters(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    page, unread_items = queries.dead_letters_page(user, request.GET.get("page"))
    return render(
        request, "networks/dead_letters.html", {"page": page, "unread_items": unread_items}
    )


@login_required
@require_POST
def retry_watch_item(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    item = queries.access_unreadable_item(user, pk)
    with transaction.atomic():
        record(
            user,
            Category.ALTERATION,
            "dead_letter.retried",
            item,
            justification=f"purpose: {item.watch.purpose}"[:500],
        )
    try:
        outcome = do_reread_item(item)
    except PayloadError as exc:
        messages.error(request, f"Still unreadable: {exc}")
    else:
        messages.success(request, f"Read it: the watch's post is now {outcome}.")
    return redirect("networks:dead_letters")


@login_required
@require_POST
def retry_dead_letter(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    payload = queries.access_dead_letter(user, pk)
    with transaction.atomic():
        record(user, Category.ALTERATION, "dead_letter.retried", payload)
    result = do_retry_payload(payload)
    if result.status == InboundPayload.Status.FAILED:
        messages.error(request, f"Still unreadable: {result.error}")
    else:
        messages.success(request, f"Read it: the delivery is now {result.status}.")
    return redirect("networks:dead_letters")
