"""The rumour register, stories, rumours with the spread-versus-reach chart, and the live
operation board. Views are thin: queries read (audited), actions write (audited)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from beatdesk.accounts.models import User
from beatdesk.stories import actions, queries
from beatdesk.stories.models import Rumour


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _errors(request: HttpRequest, exc: Exception) -> None:
    messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))


@login_required
def register(request: HttpRequest) -> HttpResponse:
    context = queries.register(_user(request))
    context["can_write"] = _user(request).role in actions.RUMOUR_WRITERS
    return render(request, "stories/register.html", context)


@login_required
def story(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    found = queries.access_story(user, pk, purpose="opened the story")
    return render(
        request,
        "stories/story.html",
        {
            "story": found,
            "rumour": queries.visible_rumours(user).filter(story=found).first(),
            "can_write": user.role in actions.RUMOUR_WRITERS,
            "spread": queries.spread_series(found),
        },
    )


@login_required
@require_POST
def promote(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        rumour = actions.check_promote(_user(request), pk, claim=request.POST.get("claim", ""))
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("stories:story", pk)
    messages.success(request, "Promoted to the rumour register.")
    return redirect("stories:rumour", rumour.pk)


@login_required
def rumour(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    found = queries.access_rumour(user, pk, purpose="opened the rumour")
    draft = (
        reverse("publishing:compose")
        + "?"
        + urlencode({"kind": "update", "text": f"Rumour: {found.claim[:200]} — the facts: "})
    )
    chart = {"spread": queries.spread_series(found.story), "reach": queries.reach_series(found)}
    return render(
        request,
        "stories/rumour.html",
        {
            "rumour": found,
            "notes": found.notes.select_related("author"),
            "statuses": Rumour.Status.choices,
            "owners": User.objects.filter(
                force=user.force, is_active=True, role__in=actions.RUMOUR_WRITERS
            ).order_by("first_name", "username"),
            "posts": actions.rebuttal_choices(user),
            "can_write": user.role in actions.RUMOUR_WRITERS,
            "draft_url": draft,
            "chart": chart,
            "points": len(chart["spread"]) + len(chart["reach"]),
        },
    )


@login_required
@require_POST
def rumour_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    try:
        if "note" in request.POST:
            actions.check_add_note(user, pk, text=request.POST.get("note", ""))
            messages.success(request, "Evidence note added.")
        elif "rebuttal" in request.POST:
            actions.check_link_rebuttal(user, pk, post_id=int(request.POST["rebuttal"] or 0))
            messages.success(request, "Rebuttal linked.")
        else:
            actions.check_update(
                user,
                pk,
                status=request.POST.get("status", ""),
                owner_id=int(request.POST.get("owner") or 0),
            )
            messages.success(request, "Rumour updated.")
    except (ValidationError, ValueError) as exc:
        _errors(request, exc)
    return redirect("stories:rumour", pk)


@login_required
def board(request: HttpRequest, pk: int) -> HttpResponse:
    operation = queries.access_board(_user(request), pk)
    context = queries.board(operation)
    context["operation"] = operation
    request.session[f"board-{pk}"] = queries.board_digest(context)[0]
    return render(request, "stories/board.html", context)


@login_required
def board_live(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    operation = queries.access_board(user, pk, audit=False)
    context = queries.board(operation)
    context["operation"] = operation
    digest, shown = queries.board_digest(context)
    if request.session.get(f"board-{pk}") != digest:
        queries.audit_board(user, operation, shown)
        request.session[f"board-{pk}"] = digest
    return render(request, "stories/_board_live.html", context)


@login_required
def spike_bar(request: HttpRequest) -> HttpResponse:
    """The spike bar: include it with hx-get on any page (board, operations list)."""
    user = _user(request)
    queries.check_reader(user, "stories.spike", "bar")
    spikes = queries.recent_spikes(user)
    return render(request, "stories/_spike_bar.html", {"spikes": spikes})
