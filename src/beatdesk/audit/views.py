"""The audit log as supervisors and administrators read it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from beatdesk.accounts.access import refuse
from beatdesk.accounts.models import User
from beatdesk.accounts.policy import may_read_audit
from beatdesk.audit.models import AuditEvent, Category


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not may_read_audit(user):
        refuse(
            user, "audit.auditevent", "*", "only supervisors and administrators read the audit log"
        )
    # Unsealed events (no sequence yet) are the newest: they come first.
    events = AuditEvent.objects.select_related("actor").order_by(
        F("sequence").desc(nulls_first=True), "-id"
    )
    category = request.GET.get("category", "")
    if category in Category.values:
        events = events.filter(category=category)
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/log.html",
        {"page": page, "categories": Category.choices, "category": category},
    )
