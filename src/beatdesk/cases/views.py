"""Cases in the desk: create from messages, the case page with its timeline, notes,
the force's references and legal hold."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from beatdesk.accounts.access import guard, refuse
from beatdesk.accounts.models import User
from beatdesk.accounts.policy import MESSAGE_WRITERS, is_active_staff
from beatdesk.cases import actions
from beatdesk.cases.models import Case
from beatdesk.cases.queries import access_case, case_messages, timeline, visible_cases
from beatdesk.core.redirects import safe_next


@login_required
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        ids = [int(v) for v in request.POST.getlist("message")]
        grade = int(request.POST.get("grade") or 3)
        case = actions.check_create_case(
            user, ids, title=request.POST.get("title", ""), grade=grade
        )
    except (ValidationError, ValueError) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        return redirect(safe_next(request, request.POST.get("next"), "inbox:index"))
    messages.success(request, f"Case {case.reference} opened from {len(ids)} message(s).")
    return redirect("cases:detail", case.pk)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    case = access_case(user, pk, purpose="opened the case")
    linked = case_messages(user, case)
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "linked": linked.shown,
            "withheld": linked.withheld,
            "notes": case.notes.select_related("author"),
            "events": timeline(user, case),
            "statuses": Case.Status.choices,
            "can_write": user.role in MESSAGE_WRITERS,
        },
    )


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not is_active_staff(user):
        refuse(user, "cases.case", "list", "cases are for staff")
    cases = (
        visible_cases(user)
        .select_related("team", "assignee")
        .order_by("status", "grade", "-created_at")
    )
    return render(request, "cases/index.html", {"cases": cases[:200]})


@login_required
@require_POST
def update(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    guard(
        user,
        is_active_staff(user) and user.role in MESSAGE_WRITERS,
        visible_cases(user),
        pk,
        object_type="cases.case",
        refused="this role cannot change cases",
        hidden="the case belongs to another team",
    )
    try:
        if request.POST.get("note"):
            actions.check_add_note(user, pk, request.POST["note"])
            messages.success(request, "Note added (internal: never sent).")
        else:
            hold = (
                request.POST.get("legal_hold") == "on" if request.POST.get("hold_field") else None
            )
            actions.check_update_case(
                user,
                pk,
                status=request.POST.get("status") or None,
                force_references=request.POST.get("force_references"),
                legal_hold=hold,
                legal_hold_reason=request.POST.get("legal_hold_reason", ""),
            )
            messages.success(request, "Case updated.")
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("cases:detail", pk)
