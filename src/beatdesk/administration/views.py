"""The administration pages: thin views over actions.py and queries.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from beatdesk.accounts.models import User
from beatdesk.administration import actions
from beatdesk.administration.forms import (
    AreaForm,
    ForceSettingsForm,
    ImportForm,
    InviteForm,
    TeamForm,
    UserForm,
)
from beatdesk.administration.outlines import OutlineError, leaflet_rings, parse_outline
from beatdesk.administration.queries import (
    access_area,
    access_team,
    access_user,
    open_invitation,
    require_administrator,
    user_rows,
    visible_areas,
    visible_teams,
)
from beatdesk.audit.actions import Category, record


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _me(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@login_required
def index(request: HttpRequest) -> HttpResponse:
    require_administrator(_me(request), "administration")
    return render(request, "administration/index.html")


@login_required
def users(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    require_administrator(me, "accounts.user")
    return render(request, "administration/users.html", {"rows": user_rows(me)})


@login_required
def invite(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    require_administrator(me, "accounts.user")
    assert me.force is not None
    form = InviteForm(request.POST or None)
    form.limit_teams(me.force)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            invitee = actions.Invitee(
                data["username"],
                data["email"],
                data["role"],
                list(data["teams"]),
                data["first_name"],
                data["last_name"],
            )
            try:
                user = actions.check_invite(me, invitee, _base_url(request))
            except actions.AdminError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _invited(user))
                return redirect("administration:users")
        status = 400
    return render(request, "administration/invite.html", {"form": form}, status=status)


def _invited(user: User) -> str:
    if user.invitations.filter(mailed_at__isnull=False).exists():  # type: ignore[attr-defined]
        return f"Invited {user.username}: a link valid for 72 hours went to {user.email}."
    return (
        f"{user.username} is added, but the mail server refused the invitation to "
        f"{user.email}: check the email settings, then send a new invitation."
    )


@login_required
def user(request: HttpRequest, pk: int) -> HttpResponse:
    me = _me(request)
    person = access_user(me, pk)
    assert me.force is not None
    initial = {"role": person.role, "teams": list(person.teams.all())}
    form = UserForm(request.POST or None, initial=initial)
    form.limit_teams(me.force)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.check_set_role(
                    me, pk, form.cleaned_data["role"], list(form.cleaned_data["teams"])
                )
            except actions.AdminError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Saved {person.username}'s role and teams.")
                return redirect("administration:users")
        status = 400
    context = {
        "person": person,
        "form": form,
        "has_second_factor": person.totpdevice_set.filter(confirmed=True).exists(),  # type: ignore[attr-defined]
        "awaiting": not person.has_usable_password(),
    }
    return render(request, "administration/user.html", context, status=status)


def _act(request: HttpRequest, pk: int, do: Any, done: str) -> HttpResponse:
    try:
        person = do()
    except actions.AdminError as exc:
        messages.error(request, str(exc))
        return redirect("administration:user", pk)
    messages.success(request, done.format(person.username))
    return redirect("administration:user", pk)


@login_required
@require_POST
def reset_second_factor(request: HttpRequest, pk: int) -> HttpResponse:
    me = _me(request)
    return _act(
        request,
        pk,
        lambda: actions.check_reset_second_factor(me, pk),
        "{}'s authenticator is removed: they enrol a new one at their next sign-in.",
    )


@login_required
@require_POST
def set_enabled(request: HttpRequest, pk: int) -> HttpResponse:
    me = _me(request)
    enabled = request.POST.get("enabled") == "1"
    return _act(
        request,
        pk,
        lambda: actions.check_set_enabled(me, pk, enabled),
        "{} can sign in again." if enabled else "{} is disabled; their sessions have ended.",
    )


@login_required
@require_POST
def reinvite(request: HttpRequest, pk: int) -> HttpResponse:
    me = _me(request)
    try:
        person = actions.check_reinvite(me, pk, _base_url(request))
    except actions.AdminError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _invited(person) + " The old link no longer works.")
    return redirect("administration:user", pk)


@login_required
def import_users(request: HttpRequest) -> HttpResponse:
    """Upload a CSV, see each line with its problems, then invite them all (or fix it)."""
    me = _me(request)
    require_administrator(me, "accounts.user")
    form = ImportForm(request.POST or None, request.FILES or None)
    lines, text, status = None, "", 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            text = upload.read().decode("utf-8-sig") if upload else form.cleaned_data["rows"]
        except UnicodeDecodeError:
            form.add_error("file", "The file is not UTF-8 text: save it as CSV UTF-8.")
        if upload is None and request.POST.get("commit") and text:
            try:
                invited = actions.check_import(me, text, _base_url(request))
            except actions.AdminError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Invited {len(invited)} people.")
                return redirect("administration:users")
        if text and not form.errors:
            lines = actions.read_import(me, text)
        elif not form.errors:
            form.add_error("file", "Choose a CSV file.")
    if form.errors or (lines and any(x.problems for x in lines)):
        status = 400
    context = {
        "form": form,
        "lines": lines,
        "rows": text,
        "ready": bool(lines) and not any(x.problems for x in lines or []),
    }
    return render(request, "administration/import.html", context, status=status)


def accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link: choose a password, then enrol the authenticator (the sign-in's
    second step, with its QR code)."""
    invitation = open_invitation(token)
    if invitation is None:
        with transaction.atomic():
            record(
                None,
                Category.AUTHENTICATION,
                "invitation.link_refused",
                object_type="administration.invitation",
            )
        return render(request, "administration/accept_invalid.html", status=400)
    form = SetPasswordForm(invitation.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = actions.do_accept(invitation, form.cleaned_data["new_password1"])
        except (actions.AdminError, ValidationError) as exc:
            form.add_error(None, str(exc))
        else:
            login(request, person, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("accounts:second_factor")
    status = 400 if form.errors else 200
    context = {"form": form, "invitation": invitation}
    return render(request, "administration/accept.html", context, status=status)


@login_required
def teams(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    require_administrator(me, "accounts.team")
    rows = visible_teams(me).select_related("area").order_by("name")
    return render(request, "administration/teams.html", {"teams": rows})


@login_required
def team(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    me = _me(request)
    existing = access_team(me, pk) if pk else None
    if existing is None:
        require_administrator(me, "accounts.team")
    assert me.force is not None
    form = TeamForm(request.POST or None, instance=existing, force=me.force)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            values = {f: form.cleaned_data[f] for f in ("name", "slug", "kind", "area")}
            try:
                saved = actions.check_save_team(me, pk, values)
            except actions.AdminError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Saved the team {saved.name}.")
                return redirect("administration:teams")
        status = 400
    context = {"form": form, "team": existing}
    return render(request, "administration/team_form.html", context, status=status)


@login_required
def areas(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    require_administrator(me, "accounts.area")
    return render(request, "administration/areas.html", {"areas": visible_areas(me)})


@login_required
def area(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    me = _me(request)
    existing = access_area(me, pk) if pk else None
    if existing is None:
        require_administrator(me, "accounts.area")
    form = AreaForm(request.POST or None, request.FILES or None, instance=existing)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["outline_file"]
            outline = None
            try:
                if upload:
                    outline = parse_outline(upload.name, upload.read())
                values = {
                    f: form.cleaned_data[f]
                    for f in ("name", "slug", "postcode_districts", "place_names")
                }
                saved = actions.check_save_area(me, pk, values, outline)
            except OutlineError as exc:
                form.add_error("outline_file", str(exc))
            except actions.AdminError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Saved the area {saved.name}.")
                return redirect("administration:area", saved.pk)
        status = 400
    context = {
        "form": form,
        "area": existing,
        "map": {"rings": leaflet_rings(existing.outline if existing else None)},
    }
    return render(request, "administration/area_form.html", context, status=status)


@login_required
def force_settings(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    require_administrator(me, "accounts.force")
    form = ForceSettingsForm(request.POST or None, instance=me.force)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            actions.check_save_force(me, form.cleaned_data)
            messages.success(request, "Saved the force's settings.")
            return redirect("administration:force")
        status = 400
    return render(request, "administration/force.html", {"form": form}, status=status)
