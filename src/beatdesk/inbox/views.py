"""The first inbox: newest first, live, filterable; and a message with its thread."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from beatdesk.accounts.access import guard, refuse
from beatdesk.accounts.models import Area, User
from beatdesk.accounts.policy import MESSAGE_WRITERS, is_active_staff
from beatdesk.audit.actions import Category, record
from beatdesk.cases.queries import visible_cases
from beatdesk.core.clock import now
from beatdesk.core.grades import Grade
from beatdesk.core.redirects import safe_next
from beatdesk.inbox import bulk as surge
from beatdesk.inbox import work as w
from beatdesk.inbox.actions import check_set_targets
from beatdesk.inbox.forms import InboxFilterForm
from beatdesk.inbox.models import Message, ResponseTarget
from beatdesk.inbox.queries import (
    QUEUES,
    InboxFilter,
    access_message,
    apply_filter,
    audit_list_view,
    inbox_page,
    queue,
    queue_counts,
    thread_of,
    visible_bulk_operations,
    visible_messages,
)
from beatdesk.networks.models import NetworkAccount
from beatdesk.publishing.models import ReplyTemplate
from beatdesk.publishing.queries import promised_replies, replies_drafted
from beatdesk.publishing.replies import LIMITS, fill
from beatdesk.triage.actions import CORRECTING_ROLES
from beatdesk.triage.models import ContactType


def _filter(request: HttpRequest, user: User) -> tuple[InboxFilterForm, InboxFilter]:
    form = InboxFilterForm(
        request.GET or None,
        accounts=NetworkAccount.objects.filter(force=user.force),
        areas=Area.objects.filter(force=user.force),
    )
    return _filter_from(form)


def _filter_from(form: InboxFilterForm) -> tuple[InboxFilterForm, InboxFilter]:
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        flt = InboxFilter(
            network=data["network"] or "",
            account=data["account"].pk if data["account"] else None,
            area=data["area"].pk if data["area"] else None,
            contact_type=data["contact_type"] or "",
            grade=data["grade"],
            queue=data["queue"] or "all",
            q=data["q"] or "",
            language=(data["language"] or "").strip().lower(),
            personal_data=data["personal_data"],
            since=data["since"],
            until=data["until"],
        )
    else:
        flt = InboxFilter()
    return form, flt


def _rows_context(request: HttpRequest, user: User) -> dict[str, object]:
    if not is_active_staff(user):
        refuse(user, "inbox.message", "*", "the inbox is for staff; advisers see their spaces")
    form, flt = _filter(request, user)
    page = inbox_page(user, flt)
    request.session["inbox_shown"] = audit_list_view(
        user, page, flt, request.session.get("inbox_shown", "")
    )

    counts = queue_counts(user)

    return {
        "now": now(),
        "form": form,
        "page": page,
        "total": visible_messages(user).count(),
        "query": request.GET.urlencode(),
        "queue": flt.queue,
        "queues": [(key, label, counts.get(key)) for key, label in QUEUES.items()],
    }


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    context = _rows_context(request, user)
    context["staff"] = User.objects.filter(force=user.force, is_active=True).exclude(role="adviser")
    context["outcomes"] = Message.Outcome.choices

    context["reply_templates"] = ReplyTemplate.objects.filter(force=user.force)
    context["last_bulk"] = request.session.get("last_bulk")
    return render(request, "inbox/index.html", context)


@login_required
def rows(request: HttpRequest) -> HttpResponse:
    """The live part of the inbox, fetched by htmx every few seconds."""
    user: User = request.user  # type: ignore[assignment]
    return render(request, "inbox/_rows.html", _rows_context(request, user))


def _conversation_cases(user: User, message: Message) -> list[object]:
    """Cases opened from any message of this conversation (not a profile of the person)."""
    if message.conversation_id is None:
        return []
    return list(
        visible_cases(user)
        .filter(messages__conversation_id=message.conversation_id)
        .distinct()
        .order_by("-created_at")[:20]
    )


def _filled_templates(message: Message, user: User) -> list[dict[str, str]]:
    filled = []
    for template in ReplyTemplate.objects.filter(force=message.account.force):
        try:
            filled.append({"name": template.name, "text": fill(template, message, user)})
        except ValidationError:
            continue  # a broken template is left out rather than breaking the page
    return filled


@login_required
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    message = access_message(user, pk, purpose="opened from the inbox")

    drafted = replies_drafted(user, message)

    return render(
        request,
        "inbox/message.html",
        {
            "message": message,
            "triage": getattr(message, "triage", None),
            "thread": thread_of(user, message),
            "earlier_cases": _conversation_cases(user, message),
            "can_correct": user.role in CORRECTING_ROLES,
            "can_work": user.role in MESSAGE_WRITERS,
            "staff": User.objects.filter(force=user.force, is_active=True)
            .exclude(role="adviser")
            .order_by("first_name"),
            "outcomes": Message.Outcome.choices,
            "contact_types": ContactType.choices,
            "grades": Grade.choices,
            "drafted_replies": drafted.select_related("author").order_by("created_at"),
            "can_approve": user.role in ("supervisor", "administrator"),
            "templates": _filled_templates(message, user),
            "limit": LIMITS.get(message.account.kind),
            "draft_text": next((p.text for p in drafted.filter(status="draft")), ""),
        },
    )


@login_required
@require_POST
def work(request: HttpRequest, pk: int) -> HttpResponse:
    """Claim, assign, snooze, close or reopen; the reason is shown when it cannot be done."""
    import datetime as dt

    user: User = request.user  # type: ignore[assignment]
    guard(
        user,
        is_active_staff(user) and user.role in MESSAGE_WRITERS,
        visible_messages(user),
        pk,
        object_type="inbox.message",
        refused="this role does not work messages",
        hidden="the message is outside the user's teams",
    )
    action = request.POST.get("action", "")
    try:
        if action == "claim":
            w.check_claim(user, pk)
        elif action == "assign":
            assignee = User.objects.filter(pk=request.POST.get("assignee") or 0).first()
            if assignee is None:
                raise ValidationError("choose who to assign it to")
            w.check_assign(user, pk, assignee)
        elif action == "snooze":
            hours = int(request.POST.get("hours") or 1)
            w.check_snooze(user, pk, now() + dt.timedelta(hours=max(1, min(hours, 72))))
        elif action == "close":
            w.check_close(
                user, pk, request.POST.get("outcome", ""), request.POST.get("reference", "")
            )
        elif action == "reopen":
            w.check_reopen(user, pk)
        else:
            raise ValidationError("unknown action")
    except (ValidationError, ValueError) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(
            request,
            {
                "claim": "It is yours.",
                "assign": "Assigned.",
                "snooze": "Snoozed.",
                "close": "Closed.",
                "reopen": "Reopened.",
            }[action],
        )
    return redirect("inbox:message", pk)


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Preview a surge action, then apply it (with an undo link), on the selection or on
    everything the current filter matches."""
    from urllib.parse import urlsplit

    from django.http import QueryDict

    user: User = request.user  # type: ignore[assignment]
    back = safe_next(request, request.POST.get("next"), "/")
    query = QueryDict(urlsplit(back).query)
    if request.POST.get("scope") == "filter":
        form = InboxFilterForm(
            query or None,
            accounts=NetworkAccount.objects.filter(force=user.force),
            areas=Area.objects.filter(force=user.force),
        )
        _, flt = _filter_from(form)
        targets = apply_filter(queue(user, flt.queue), flt)
    else:
        ids = [int(v) for v in request.POST.getlist("message") if v.isdigit()]
        targets = visible_messages(user).filter(pk__in=ids)
    action = request.POST.get("action", "")
    assignee = User.objects.filter(
        pk=request.POST.get("assignee") or 0, force=user.force, is_active=True
    ).first()
    outcome = request.POST.get("outcome", "")

    template = ReplyTemplate.objects.filter(
        pk=request.POST.get("template") or 0, force=user.force
    ).first()
    try:
        if request.POST.get("confirm") == "1":
            operation = surge.apply(
                user, targets, action, assignee=assignee, outcome=outcome, template=template
            )
            messages.success(request, f"Done: {operation.description}.")
            request.session["last_bulk"] = operation.pk
            return redirect(back)
        plan = surge.preview(
            user, targets, action, assignee=assignee, outcome=outcome, template=template
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect(back)
    return render(request, "inbox/bulk_preview.html", {"plan": plan, "post": request.POST})


@login_required
@require_POST
def bulk_undo(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    guard(
        user,
        is_active_staff(user) and user.role in MESSAGE_WRITERS,
        visible_bulk_operations(user),
        pk,
        object_type="inbox.bulkoperation",
        refused="this role does not work messages",
        hidden="the bulk change is another force's",
    )
    try:
        operation = surge.undo(user, pk)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, f"Undone: {operation.description}.")
    return redirect(safe_next(request, request.POST.get("next"), "/"))


@login_required
def handover(request: HttpRequest) -> HttpResponse:
    """One printable page for the next shift: what is open, breached, in hand, and what
    was promised to whom (replies waiting to go), plus open cases."""
    user: User = request.user  # type: ignore[assignment]
    if not is_active_staff(user):
        refuse(user, "inbox.message", "handover", "the hand-over is for staff")
    in_hand = (
        queue(user, "all")
        .filter(state=Message.State.CLAIMED)
        .select_related("assignee", "triage", "account")
        .order_by("assignee__first_name", "triage__grade", "received_at")
    )
    breached = queue(user, "breached").select_related("triage", "account")
    promised = (
        promised_replies(user)
        .select_related("in_reply_to", "author", "account")
        .order_by("created_at")
    )
    with transaction.atomic():
        record(
            user,
            Category.CONSULTATION,
            "handover.view",
            object_type="inbox.message",
            object_id="handover",
            justification="shift hand-over",
        )
    return render(
        request,
        "inbox/handover.html",
        {
            "now": now(),
            "counts": queue_counts(user),
            "in_hand": in_hand[:200],
            "breached": breached[:200],
            "promised": promised[:200],
            "cases": visible_cases(user)
            .exclude(status="closed")
            .select_related("team", "assignee")[:200],
        },
    )


@login_required
def targets(request: HttpRequest) -> HttpResponse:
    """The force's response targets per grade; supervisors and administrators set them."""
    user: User = request.user  # type: ignore[assignment]
    if user.role not in ("supervisor", "administrator") or not is_active_staff(user):
        refuse(user, "inbox.responsetarget", "*", "only supervisors set response targets")
    current = {t.grade: t.minutes for t in ResponseTarget.objects.filter(force=user.force)}
    errors: list[str] = []
    if request.method == "POST":
        wanted: dict[int, int | None] = {}
        for grade in Grade.values:
            raw = request.POST.get(f"grade_{grade}", "").strip()
            if not raw:
                wanted[grade] = None
            elif raw.isdigit() and int(raw) <= 60 * 24 * 30:
                wanted[grade] = int(raw)
            else:
                errors.append(f"grade {grade}: minutes, a whole number up to 43200")
        if not errors:
            check_set_targets(user, wanted)
            messages.success(request, "Targets saved: new messages follow them at once.")
            return redirect("inbox:targets")
    rows = [(g, label, current.get(g)) for g, label in Grade.choices]
    return render(request, "inbox/targets.html", {"rows": rows, "errors": errors})
