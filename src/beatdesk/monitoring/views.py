"""Monitoring pages: operations, their watches, proposing and approving watches, and what a
watch collected (each look at that is audited with the watch's purpose)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from beatdesk.accounts.access import guard, refuse
from beatdesk.accounts.models import User
from beatdesk.accounts.policy import is_active_staff
from beatdesk.cases.queries import visible_cases
from beatdesk.core.clock import now
from beatdesk.monitoring import actions
from beatdesk.monitoring.forms import DecisionForm, OperationForm, WatchForm, outline_text
from beatdesk.monitoring.models import Watch
from beatdesk.monitoring.queries import (
    access_operation,
    access_watch,
    approval_queue,
    consult_watch_posts,
    may_decide,
    may_propose,
    visible_operations,
    visible_watches,
    with_counts,
)
from beatdesk.monitoring.rules import MAX_WATCH_DAYS, PERSON_EXPLANATION

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _field_errors(form: OperationForm | WatchForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not is_active_staff(user):
        refuse(user, "monitoring.operation", "list", "monitoring is for staff")
    at = now()
    collecting = Q(
        watches__status=Watch.Status.ACTIVE,
        watches__starts_at__lte=at,
        watches__expires_at__gt=at,
    )
    operations = (
        visible_operations(user)
        .select_related("owner")
        .annotate(
            watch_count=Count("watches", distinct=True),
            collecting=Count("watches", filter=collecting, distinct=True),
            awaiting=Count(
                "watches", filter=Q(watches__status=Watch.Status.AWAITING_APPROVAL), distinct=True
            ),
        )
    )
    return render(
        request,
        "monitoring/index.html",
        {
            "operations": operations,
            "can_decide": may_decide(user),
            "queue_size": approval_queue(user).count(),
        },
    )


def _operation_fields(form: OperationForm) -> actions.OperationFields:
    data = form.cleaned_data
    return actions.OperationFields(
        name=data["name"],
        description=data["description"],
        owner=data["owner"],
        retention_until=data["retention_until"],
        area_outline=data["area_outline"],
        alert_email=data["alert_email"],
        alert_webhook=data["alert_webhook"],
    )


@login_required
def operation_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not may_decide(user) or user.force is None:
        refuse(user, "monitoring.operation", "", "only supervisors set up operations")
    form = OperationForm(
        request.POST or None,
        force=user.force,
        initial={"owner": user, "retention_until": now() + dt.timedelta(days=90)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            operation = actions.check_create_operation(user, _operation_fields(form))
        except ValidationError as exc:
            _field_errors(form, exc)
        else:
            messages.success(request, f"Operation {operation.name} set up: propose its watches.")
            return redirect("monitoring:operation", operation.pk)
    return render(request, "monitoring/operation_form.html", {"form": form, "operation": None})


@login_required
def operation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _guard_on("operation", user, pk, may_decide(user), refused="only supervisors change operations")
    operation = access_operation(user, pk)
    form = OperationForm(
        request.POST or None,
        force=operation.force,
        initial={
            "name": operation.name,
            "description": operation.description,
            "owner": operation.owner,
            "retention_until": operation.retention_until,
            "area_outline": outline_text(operation.area_outline),
            "alert_email": operation.alert_email,
            "alert_webhook": operation.alert_webhook,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.check_update_operation(user, operation, _operation_fields(form))
        except ValidationError as exc:
            _field_errors(form, exc)
        else:
            messages.success(request, "Operation saved.")
            return redirect("monitoring:operation", operation.pk)
    return render(request, "monitoring/operation_form.html", {"form": form, "operation": operation})


@login_required
@require_POST
def operation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _guard_on("operation", user, pk, may_decide(user), refused="only supervisors delete operations")
    operation = access_operation(user, pk)
    try:
        actions.check_delete_operation(user, operation)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("monitoring:operation", pk)
    messages.success(request, f"Operation {operation.name} deleted.")
    return redirect("monitoring:index")


@login_required
def operation(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    found = access_operation(user, pk)
    watches = with_counts(found.watches.select_related("owner", "account", "approved_by"))
    return render(
        request,
        "monitoring/operation.html",
        {
            "operation": found,
            "watches": watches,
            "can_decide": may_decide(user),
            "can_propose": may_propose(user),
        },
    )


@login_required
def watch_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _guard_on(
        "operation",
        user,
        pk,
        may_propose(user),
        refused="analysts and advisers do not propose watches",
    )
    found = access_operation(user, pk)
    start = now().replace(second=0, microsecond=0)
    form = WatchForm(
        request.POST or None,
        force=found.force,
        initial={
            "owner": user,
            "starts_at": start,
            "expires_at": min(start + dt.timedelta(days=7), found.retention_until),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = actions.WatchFields(
            operation=found,
            name=data["name"],
            network=data["network"],
            kind=data["kind"],
            query=data["query"],
            purpose=data["purpose"],
            owner=data["owner"],
            starts_at=data["starts_at"],
            expires_at=data["expires_at"],
            account=data["account"],
        )
        try:
            watch = actions.check_propose_watch(user, fields)
        except ValidationError as exc:
            _field_errors(form, exc)
        else:
            messages.success(
                request, f"Watch {watch.name} proposed: it collects once a supervisor approves it."
            )
            return redirect("monitoring:operation", found.pk)
    return render(
        request,
        "monitoring/watch_form.html",
        {
            "form": form,
            "operation": found,
            "max_days": MAX_WATCH_DAYS,
            "person_explanation": PERSON_EXPLANATION,
        },
    )


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not may_decide(user):
        refuse(user, "monitoring.approvals", "", "only supervisors approve watches")
    return render(request, "monitoring/approvals.html", {"watches": approval_queue(user)})


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _guard_on(
        "watch",
        user,
        pk,
        may_propose(user),
        refused="analysts and advisers do not decide on watches",
    )
    watch = access_watch(user, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose approve, refuse or stop.")
        return redirect("monitoring:watch", pk)
    decision, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]
    try:
        if decision == "approve":
            actions.check_approve_watch(user, watch, reason)
            messages.success(request, f"Watch {watch.name} approved.")
        elif decision == "refuse":
            actions.check_refuse_watch(user, watch, reason)
            messages.success(request, f"Watch {watch.name} refused.")
        else:
            actions.check_stop_watch(user, watch, reason)
            messages.success(request, f"Watch {watch.name} stopped.")
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    if request.POST.get("back") == "approvals":
        return redirect("monitoring:approvals")
    return redirect("monitoring:watch", pk)


@login_required
def watch(request: HttpRequest, pk: int) -> HttpResponse:
    """A watch and what it collected: every view is a consultation, justified by its purpose."""
    user = _user(request)
    found = access_watch(user, pk)
    posts = consult_watch_posts(user, found).select_related("held_by_case")
    page = Paginator(posts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "monitoring/watch.html",
        {
            "watch": found,
            "page": page,
            "can_decide": may_decide(user),
            "can_stop": may_decide(user) or found.owner_id == user.pk,
            "can_hold": may_propose(user),
        },
    )


@login_required
@require_POST
def hold(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _guard_on(
        "watch", user, pk, may_propose(user), refused="analysts and advisers do not hold posts"
    )
    found = access_watch(user, pk)
    reference = request.POST.get("case", "").strip()
    case = visible_cases(user).filter(reference__iexact=reference).first()
    ids = [int(v) for v in request.POST.getlist("post") if v.isdigit()]
    if case is None:
        messages.error(request, f"No case {reference!r} that you can see.")
    elif not ids:
        messages.error(request, "Select the posts the case needs.")
    else:
        held = actions.check_hold_posts(user, found, ids, case)
        messages.success(request, f"{held} post(s) held by case {case.reference} beyond retention.")
    return redirect("monitoring:watch", pk)


def _guard_on(kind: str, user: User, pk: int, allowed: bool, *, refused: str) -> None:
    """The door of every write on one operation or watch: the role, then the force (another
    force's is a 404, as if it did not exist), audited either way."""
    guard(
        user,
        allowed,
        visible_operations(user) if kind == "operation" else visible_watches(user),
        pk,
        object_type=f"monitoring.{kind}",
        refused=refused,
        hidden=f"the {kind} is another force's",
    )
