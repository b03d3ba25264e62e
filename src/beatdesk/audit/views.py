"""The audit log as supervisors and administrators read it: their own force's events."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from beatdesk.accounts.models import User
from beatdesk.audit.models import Category
from beatdesk.audit.queries import audit_log_page


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    category = request.GET.get("category", "")
    page = audit_log_page(user, category=category, number=request.GET.get("page"))
    return render(
        request,
        "audit/log.html",
        {"page": page, "categories": Category.choices, "category": category},
    )
