"""Channel health and dead letters: is every network listening, and what could not be read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from beatdesk.accounts.access import check_visible, refuse
from beatdesk.accounts.models import Role, User
from beatdesk.accounts.policy import reads_force_wide
from beatdesk.audit.actions import Category, record
from beatdesk.inbox.actions import do_retry_payload
from beatdesk.inbox.models import InboundPayload
from beatdesk.monitoring.collect import do_reread_item
from beatdesk.networks import queries
from beatdesk.networks.actions import check_set_credentials
from beatdesk.networks.base import PayloadError
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import CONNECTORS, known
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


@login_required
def credentials(request: HttpRequest, pk: int) -> HttpResponse:
    """Administrators connect an account. Secrets are encrypted at rest, never shown again,
    never logged; leaving a secret blank keeps the one already stored."""
    user: User = request.user  # type: ignore[assignment]
    if user.role != Role.ADMINISTRATOR or not user.is_active:
        refuse(user, "networks.networkaccount", pk, "only administrators connect accounts")
    theirs = NetworkAccount.objects.filter(force_id=user.force_id or 0)
    check_visible(
        user,
        theirs,
        pk,
        object_type="networks.networkaccount",
        hidden="the account is another force's",
    )
    account = theirs.get(pk=pk)
    network = known(account.kind)
    fields = list(network.credential_fields) if network is not None else []
    stored = account.get_credentials()
    errors: list[str] = []
    if request.method == "POST" and fields:
        updated = dict(stored)
        for field in fields:
            value = request.POST.get(field.name, "").strip()
            if value:
                updated[field.name] = value
            elif field.required and not stored.get(field.name):
                errors.append(f"{field.label} is needed")
        if not errors:
            check_set_credentials(user, account, updated)
            messages.success(request, f"{account} is connected. Secrets are stored encrypted.")
            return redirect("networks:health")
    rows = [
        {
            "field": f,
            "value": "" if f.secret else stored.get(f.name, ""),
            "is_set": bool(stored.get(f.name)),
        }
        for f in fields
    ]
    return render(
        request, "networks/credentials.html", {"account": account, "rows": rows, "errors": errors}
    )
