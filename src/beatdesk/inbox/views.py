"""The first inbox: newest first, live, filterable; and a message with its thread."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from beatdesk.accounts.access import refuse
from beatdesk.accounts.models import Area, User
from beatdesk.accounts.policy import is_active_staff
from beatdesk.inbox.forms import InboxFilterForm
from beatdesk.inbox.queries import (
    InboxFilter,
    access_message,
    audit_list_view,
    inbox_page,
    thread_of,
    visible_messages,
)
from beatdesk.networks.models import NetworkAccount


def _filter(request: HttpRequest, user: User) -> tuple[InboxFilterForm, InboxFilter]:
    form = InboxFilterForm(
        request.GET or None,
        accounts=NetworkAccount.objects.filter(force=user.force),
        areas=Area.objects.filter(force=user.force),
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        flt = InboxFilter(
            network=data["network"] or "",
            account=data["account"].pk if data["account"] else None,
            area=data["area"].pk if data["area"] else None,
            contact_type=data["contact_type"] or "",
            grade=data["grade"],
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
    return {
        "form": form,
        "page": page,
        "total": visible_messages(user).count(),
        "query": request.GET.urlencode(),
    }


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    return render(request, "inbox/index.html", _rows_context(request, user))


@login_required
def rows(request: HttpRequest) -> HttpResponse:
    """The live part of the inbox, fetched by htmx every few seconds."""
    user: User = request.user  # type: ignore[assignment]
    return render(request, "inbox/_rows.html", _rows_context(request, user))


@login_required
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    message = access_message(user, pk, purpose="opened from the inbox")
    from beatdesk.publishing.models import Post
    from beatdesk.triage.actions import CORRECTING_ROLES
    from beatdesk.triage.models import ContactType, Grade

    return render(
        request,
        "inbox/message.html",
        {
            "message": message,
            "triage": getattr(message, "triage", None),
            "thread": thread_of(user, message),
            "can_correct": user.role in CORRECTING_ROLES,
            "contact_types": ContactType.choices,
            "grades": Grade.choices,
            "drafted_replies": Post.objects.filter(in_reply_to=message).order_by("created_at"),
        },
    )
