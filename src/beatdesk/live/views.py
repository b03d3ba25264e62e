"""Live-event pages: the events, a new event, the approval queue, the summary; and the
command-and-control intake endpoint."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from beatdesk.accounts.models import User
from beatdesk.core.clock import now
from beatdesk.live import actions, queries
from beatdesk.live.entries import LONDON, EntryError, read_entry
from beatdesk.live.importing import LogError, read_log
from beatdesk.live.models import LiveEntry, LiveEvent
from beatdesk.networks.base import PayloadError, read_json
from beatdesk.publishing.checks import run_checks
from beatdesk.publishing.models import Post

APPROVAL_PAGE = 50
MAX_INTAKE = 1000


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    queries.check_events_page(user, "list")
    return render(
        request,
        "live/index.html",
        {
            "events": queries.visible_events(user),
            "can_manage": user.role in queries.MANAGERS,
            "now": now(),
        },
    )


def _local(raw: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(raw).replace(tzinfo=LONDON) if raw else None
    except ValueError:
        return None


@login_required
def new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    accounts = actions.event_accounts(user.force) if user.force else []
    context: dict[str, Any] = {"accounts": accounts, "values": request.POST}
    if request.method == "POST":
        starts = _local(request.POST.get("starts_at", ""))
        try:
            hours = float(request.POST.get("hours") or 24)
            pacing = int(request.POST.get("pacing") or 2)
            event, token = actions.check_create_event(
                user,
                name=request.POST.get("name", ""),
                hashtag=request.POST.get("hashtag", ""),
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=hours) if starts else None,
                account_ids=[int(v) for v in request.POST.getlist("account") if v.isdigit()],
                pacing_minutes=pacing,
            )
        except ValueError:
            messages.error(request, "hours and pacing are numbers")
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            return render(request, "live/token.html", {"event": event, "token": token})
    else:
        queries.check_events_page(user, "new", manage=True)
    return render(request, "live/new.html", context)


@login_required
def detail(request: HttpRequest, event_id: int) -> HttpResponse:
    """The event's summary: entries, posts by state, replies, followers, a chart by hour."""
    user = _user(request)
    event = queries.access_event(user, event_id, purpose="live event summary")
    summary = queries.summarise(event)
    replies = queries.event_replies(user, event)
    chart = {
        "hours": [int(h.timestamp()) for h, _, _ in summary.per_hour],
        "entries": [n for _, n, _ in summary.per_hour],
        "replies": [n for _, _, n in summary.per_hour],
    }
    recent = queries.recent_entries(event)
    return render(
        request,
        "live/detail.html",
        {
            "event": event,
            "summary": summary,
            "replies": replies,
            "chart": chart,
            "recent": recent,
            "can_manage": user.role in queries.MANAGERS,
        },
    )


@login_required
def approvals(request: HttpRequest, event_id: int) -> HttpResponse:
    """Entries awaiting approval, oldest first, a page at a time, with the log line each came
    from (personal data: the view is audited)."""
    user = _user(request)
    event = queries.access_event(user, event_id, manage=True)
    waiting = queries.awaiting_entries(event)
    page = queries.approval_page(user, event, APPROVAL_PAGE)
    kinds = sorted({a.kind for a in event.accounts.all()})
    rows = [(entry, _findings(entry.text, kinds, event)) for entry in page]
    return render(
        request,
        "live/approvals.html",
        {"event": event, "rows": rows, "waiting": waiting.count(), "edit": request.GET.get("edit")},
    )


def _findings(text: str, kinds: list[str], event: LiveEvent) -> list[Any]:
    """What the publishing checks still see in a redacted entry (the hashtag is the event's and
    the length already fits, so those checks are left out)."""
    force = event.force
    found = run_checks(
        text,
        networks=kinds,
        charged_names=[n.strip() for n in force.charged_names.splitlines() if n.strip()],
        banned_words=[w.strip() for w in force.banned_words.splitlines() if w.strip()],
        post_type=Post.Kind.LIVE,
    )
    return [f for f in found if f.check not in ("accessibility", "length")]


@login_required
def waiting(request: HttpRequest, event_id: int) -> HttpResponse:
    """How many entries await approval, polled by the approval page so new ones from the
    command-and-control system are noticed without reloading."""
    event = queries.access_event(_user(request), event_id, manage=True)
    count = queries.awaiting_entries(event).count()
    raw = request.GET.get("shown", "")
    shown = int(raw) if raw.isdigit() else 0
    return render(
        request, "live/_waiting.html", {"event": event, "count": count, "new": count - shown}
    )


def _entry_ids(request: HttpRequest) -> list[int]:
    return [int(v) for v in request.POST.getlist("entry") if v.isdigit()]


@login_required
@require_POST
def decide(request: HttpRequest, event_id: int) -> HttpResponse:
    """Approve (schedule with pacing) or hold back the chosen entries."""
    user = _user(request)
    ids = _entry_ids(request)
    try:
        if request.POST.get("action") == "hold":
            done = actions.check_hold_back(user, event_id, ids)
            messages.success(request, f"{done} entr{'y' if done == 1 else 'ies'} held back.")
        else:
            done = actions.check_approve(user, event_id, ids)
            messages.success(
                request,
                f"{done} entr{'y' if done == 1 else 'ies'} approved: scheduled "
                "a pacing apart on each account.",
            )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("live:approvals", event_id)


@login_required
@require_POST
def edit(request: HttpRequest, event_id: int, entry_id: int) -> HttpResponse:
    try:
        entry = actions.check_edit(_user(request), event_id, entry_id, request.POST.get("text", ""))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect(f"{reverse('live:approvals', args=[event_id])}?edit={entry_id}")
    messages.success(request, f"Entry {entry.number} changed; it still needs approval.")
    return redirect("live:approvals", event_id)


@login_required
@require_POST
def new_token(request: HttpRequest, event_id: int) -> HttpResponse:
    user = _user(request)
    event = queries.access_event(user, event_id, manage=True)
    token = actions.do_new_token(event, user)
    return render(request, "live/token.html", {"event": event, "token": token})


@login_required
@require_POST
def upload(request: HttpRequest, event_id: int) -> HttpResponse:
    """Import an incident log (CSV) from the event page, as `beatdesk live import` does."""
    import io

    user = _user(request)
    event = queries.access_event(user, event_id, manage=True)
    upload = request.FILES.get("log")
    if upload is None:
        messages.error(request, "choose the incident log (a .csv file)")
        return redirect("live:detail", event_id)
    try:
        text = io.StringIO(upload.read().decode("utf-8-sig"), newline="")
        added = actions.do_add_entries(event, read_log(text, event), "csv", actor=user)
    except UnicodeDecodeError:
        messages.error(request, "Not imported: the file is not UTF-8 text (save it as CSV UTF-8)")
    except LogError as exc:
        messages.error(request, f"Not imported, nothing was written: {exc}")
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(
            request,
            f"{len(added.created)} entries added, awaiting approval; "
            f"{len(added.duplicates)} already imported.",
        )
    return redirect("live:detail", event_id)


# -- command and control ---------------------------------------------------------------------


def _problem(status: int, error: str, **more: Any) -> JsonResponse:
    response = JsonResponse({"error": error, **more}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="beatdesk live intake"'
    return response


@csrf_exempt
@require_POST
def intake(request: HttpRequest, event_id: int) -> JsonResponse:
    """POST /live/<id>/entries: one entry (a JSON object) or a list of them from the
    command-and-control system, with the event's token as `Authorization: Bearer TOKEN`.
    Each needs a `reference` (the C2 incident number); sending one again adds nothing."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _problem(401, "send the event's intake token as 'Authorization: Bearer TOKEN'")
    event = queries.access_intake_event(event_id, token.strip())
    if event is None:
        return _problem(403, "this token is not the intake token of that event")
    try:
        body = read_json(request.body or b"null", "the body")
    except PayloadError as exc:
        return _problem(400, "the body is not JSON", detail=str(exc))
    records = body if isinstance(body, list) else [body]
    if not records or len(records) > MAX_INTAKE:
        return _problem(400, f"send one entry or a list of 1 to {MAX_INTAKE}")
    entries, problems = [], []
    for index, item in enumerate(records, start=1):
        where = f"entry {index}" if isinstance(body, list) else "the entry"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be a JSON object")
            continue
        reference = item.get("reference")
        if not isinstance(reference, str | int) or not str(reference).strip():
            problems.append(f"{where}, field reference: the C2 incident reference is required")
            continue
        try:
            entries.append(read_entry(item, event, where, str(reference).strip()))
        except EntryError as exc:
            problems.append(str(exc))
    if problems:
        return _problem(400, "nothing was added", problems=problems[:50])
    try:
        added = actions.do_add_entries(event, entries, LiveEntry.Source.HTTP, actor=None)
    except ValidationError as exc:
        return _problem(400, "; ".join(exc.messages))
    return JsonResponse(
        {
            "created": [{"reference": e.reference, "number": e.number} for e in added.created],
            "duplicates": added.duplicates,
        },
        status=201 if added.created else 200,
    )
