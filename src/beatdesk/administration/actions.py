"""Changing users, teams, areas and the force's settings: check_* refuses (audited) and
validates, do_* writes and records the audit event in the same transaction."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import secrets
import smtplib
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from beatdesk.accounts.models import Area, Force, Role, Team, User
from beatdesk.accounts.signals import end_sessions
from beatdesk.administration.models import Invitation, token_digest
from beatdesk.administration.queries import (
    access_area,
    access_team,
    access_user,
    require_administrator,
    visible_teams,
)
from beatdesk.audit.actions import Category, record, record_system

logger = logging.getLogger(__name__)
INVITATION_VALID = dt.timedelta(hours=72)
STAFF_ROLES = {r.value for r in Role if r != Role.ADVISER}


class AdminError(ValueError):
    """What was asked cannot be done; the message says why, for the administrator."""


# -- users --------------------------------------------------------------------------------


@dataclass
class Invitee:
    username: str
    email: str
    role: str
    teams: list[Team] = field(default_factory=list)
    first_name: str = ""
    last_name: str = ""


def _invitee_problems(force: Force, invitee: Invitee) -> list[str]:
    problems = []
    try:
        UnicodeUsernameValidator()(invitee.username)
    except ValidationError:
        problems.append(f"username {invitee.username!r}: letters, digits and @.+-_ only")
    else:
        if User.objects.filter(username=invitee.username).exists():
            problems.append(f"username {invitee.username!r} is taken")
    try:
        validate_email(invitee.email)
    except ValidationError:
        problems.append(f"{invitee.email!r} is not an email address")
    else:
        if User.objects.filter(force=force, email__iexact=invitee.email).exists():
            problems.append(f"{invitee.email} already has an account")
    if invitee.role not in STAFF_ROLES:
        problems.append(f"role {invitee.role!r} is not one of {', '.join(sorted(STAFF_ROLES))}")
    return problems


def check_invite(admin: User, invitee: Invitee, base_url: str) -> User:
    require_administrator(admin, "accounts.user")
    assert admin.force is not None
    problems = _invitee_problems(admin.force, invitee)
    if problems:
        raise AdminError("; ".join(problems).capitalize() + ".")
    with transaction.atomic():
        return do_invite(admin, invitee, base_url)


def do_invite(admin: User, invitee: Invitee, base_url: str) -> User:
    """Create the account (no password yet) and mail it a one-time link, after commit."""
    user = User(
        username=invitee.username,
        email=invitee.email,
        first_name=invitee.first_name,
        last_name=invitee.last_name,
        role=invitee.role,
        force=admin.force,
    )
    user.set_unusable_password()
    user.save()
    user.teams.set(invitee.teams)
    _send_invitation(admin, user, base_url)
    record(
        admin,
        Category.ALTERATION,
        "user.invited",
        user,
        payload={"role": user.role, "teams": [t.pk for t in invitee.teams]},
    )
    return user


def _send_invitation(admin: User, user: User, base_url: str) -> Invitation:
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    assert user.force is not None
    invitation = Invitation.objects.create(
        force=user.force,
        user=user,
        token_sha256=token_digest(token),
        invited_by=admin,
        created_at=now,
        expires_at=now + INVITATION_VALID,
    )
    context = {
        "user": user,
        "force": user.force,
        "link": f"{base_url.rstrip('/')}/administration/invitation/{token}/",
        "hours": int(INVITATION_VALID.total_seconds() // 3600),
        "invited_by": admin.display_name,
    }
    body = render_to_string("administration/invitation_email.txt", context)
    subject = f"Your beatdesk account at {user.force}"
    # Mailed once the account is committed; the mail holds the only copy of the token.
    transaction.on_commit(lambda: _mail(invitation, subject, body))
    return invitation


def _mail(invitation: Invitation, subject: str, body: str) -> None:
    """Send the invitation; a mail server that refuses it is noted (the users list says
    so, and a new invitation can be sent), not a failed page for the administrator."""
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.user.email])
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("invitation %s not mailed: %s", invitation.pk, exc)
        with transaction.atomic():
            record_system(
                "administration",
                Category.ALTERATION,
                "invitation.mail_failed",
                invitation.user,
                justification=type(exc).__name__,
            )
        return
    Invitation.objects.filter(pk=invitation.pk).update(mailed_at=timezone.now())


def check_reinvite(admin: User, user_id: int, base_url: str) -> User:
    """A new link for someone whose invitation expired or was lost; the old one stops."""
    user = access_user(admin, user_id)
    if user.has_usable_password():
        raise AdminError(f"{user.username} has already accepted and chosen a password.")
    with transaction.atomic():
        Invitation.objects.filter(user=user, accepted_at__isnull=True).delete()
        _send_invitation(admin, user, base_url)
        record(admin, Category.ALTERATION, "user.reinvited", user)
    return user


def do_accept(invitation: Invitation, password: str) -> User:
    """The invitee chose a password through the link: it is used up."""
    user = invitation.user
    validate_password(password, user)
    with transaction.atomic():
        updated = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
            accepted_at=timezone.now()
        )
        if not updated:  # the same link sent twice at once
            raise AdminError("This invitation has already been used.")
        user.set_password(password)
        user.save(update_fields=["password"])
        record(user, Category.AUTHENTICATION, "invitation.accepted", user)
    return user


def check_set_role(admin: User, user_id: int, role: str, teams: list[Team]) -> User:
    user = access_user(admin, user_id)
    if role not in STAFF_ROLES:
        raise AdminError(f"Role {role!r} is not a staff role.")
    if user.pk == admin.pk and role != Role.ADMINISTRATOR:
        raise AdminError("You cannot take away your own administrator role.")
    allowed = set(visible_teams(admin).values_list("pk", flat=True))
    if any(t.pk not in allowed for t in teams):
        raise AdminError("A team chosen is not one of this force's.")
    with transaction.atomic():
        before = {"role": user.role, "teams": sorted(user.teams.values_list("pk", flat=True))}
        user.role = role
        user.save(update_fields=["role"])
        user.teams.set(teams)
        after = {"role": role, "teams": sorted(t.pk for t in teams)}
        record(admin, Category.ALTERATION, "user.role_set", user, payload=[before, after])
    return user


def check_reset_second_factor(admin: User, user_id: int) -> User:
    """The user enrols a new authenticator at their next sign-in; their sessions end."""
    user = access_user(admin, user_id)
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        ended = end_sessions(user)
        record(
            admin,
            Category.ALTERATION,
            "user.second_factor_reset",
            user,
            payload={"devices": removed, "sessions_ended": ended},
        )
    return user


def check_set_enabled(admin: User, user_id: int, enabled: bool) -> User:
    user = access_user(admin, user_id)
    if user.pk == admin.pk and not enabled:
        raise AdminError("You cannot disable your own account.")
    with transaction.atomic():
        user.is_active = enabled
        user.save(update_fields=["is_active"])
        ended = 0 if enabled else end_sessions(user)  # at once, not at their next request
        record(
            admin,
            Category.ALTERATION,
            "user.enabled" if enabled else "user.disabled",
            user,
            payload={"sessions_ended": ended},
        )
    return user


# -- importing users from CSV ---------------------------------------------------------------


@dataclass
class ImportLine:
    line: int
    invitee: Invitee | None
    problems: list[str]


def read_import(admin: User, text: str) -> list[ImportLine]:
    """Each line of a CSV of username,email,role,team (a header line is optional; team is a
    team's name or short name, several separated by ';'), with its problems named."""
    require_administrator(admin, "accounts.user")
    assert admin.force is not None
    teams = {t.slug.lower(): t for t in visible_teams(admin)}
    teams |= {t.name.lower(): t for t in teams.values()}
    lines: list[ImportLine] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        cells = [c.strip() for c in row]
        if not any(cells) or (number == 1 and cells[:2] == ["username", "email"]):
            continue
        if len(cells) < 3 or len(cells) > 4:
            lines.append(ImportLine(number, None, ["expected username,email,role,team"]))
            continue
        username, email, role = cells[0], cells[1], cells[2].lower().replace(" ", "_")
        names = [n.strip() for n in (cells[3] if len(cells) > 3 else "").split(";") if n.strip()]
        invitee = Invitee(
            username, email, role, [teams[n.lower()] for n in names if n.lower() in teams]
        )
        problems = _invitee_problems(admin.force, invitee)
        problems += [f"no team {n!r}" for n in names if n.lower() not in teams]
        for key in (username.lower(), email.lower()):
            if key in seen:
                problems.append(f"{key} is also on line {seen[key]}")
            seen.setdefault(key, number)
        lines.append(ImportLine(number, invitee, problems))
    if not lines:
        lines.append(ImportLine(1, None, ["the file has no users"]))
    return lines


def check_import(admin: User, text: str, base_url: str) -> list[User]:
    """Invite everyone in the file, or no one when any line has a problem."""
    lines = read_import(admin, text)
    bad = [f"line {x.line}: {'; '.join(x.problems)}" for x in lines if x.problems]
    if bad:
        raise AdminError("Nobody was invited. " + " / ".join(bad))
    with transaction.atomic():
        users = [do_invite(admin, x.invitee, base_url) for x in lines if x.invitee]
        record(admin, Category.ALTERATION, "users.imported", payload={"count": len(users)})
    return users


# -- teams, areas and the force's settings --------------------------------------------------


def _open_or_new(
    admin: User, pk: int | None, access: Any, model: type[Team] | type[Area], slug: str
) -> Any:
    """The team or area named (through its door), or a new one of this force; its short
    name must be the force's only one."""
    found = access(admin, pk) if pk else None
    if found is None:
        require_administrator(admin, model._meta.label_lower)
    if model.objects.filter(force=admin.force_id, slug=slug).exclude(pk=pk or 0).exists():
        raise AdminError(f"Another {model._meta.verbose_name} has the short name {slug!r}.")
    return found or model(force=admin.force)


def _save_audited(admin: User, obj: Any, values: dict[str, Any], **extra: Any) -> Any:
    """Save the team or area with these values; the log has them (records by id, and an
    outline only as whether it was replaced) and `extra`."""
    created = obj.pk is None
    for name, value in values.items():
        setattr(obj, name, value)
    obj.save()
    name = obj._meta.model_name
    payload = {k: getattr(v, "pk", v) for k, v in values.items() if k != "outline"} | extra
    record(
        admin,
        Category.ALTERATION,
        f"{name}.created" if created else f"{name}.changed",
        obj,
        payload=payload,
    )
    return obj


def check_save_team(admin: User, team_id: int | None, values: dict[str, Any]) -> Team:
    team = _open_or_new(admin, team_id, access_team, Team, values["slug"])
    area = values.get("area")
    if area is not None and area.force_id != admin.force_id:
        raise AdminError("The area chosen is not one of this force's.")
    with transaction.atomic():
        saved: Team = _save_audited(admin, team, values)
    return saved


def check_save_area(
    admin: User, area_id: int | None, values: dict[str, Any], outline: dict[str, Any] | None
) -> Area:
    """Save an area; `outline` (parsed by outlines.parse_outline) replaces the old one when
    a file was uploaded, else it stays."""
    area = _open_or_new(admin, area_id, access_area, Area, values["slug"])
    if outline is not None:
        values = {**values, "outline": outline}
    with transaction.atomic():
        saved: Area = _save_audited(admin, area, values, outline_replaced=outline is not None)
    return saved


FORCE_SETTINGS = [
    "name",
    "non_emergency_number",
    "online_reporting_url",
    "emergency_reply",
    "emergency_reply_text",
    "banned_words",
    "charged_names",
]


def check_save_force(admin: User, values: dict[str, Any]) -> Force:
    require_administrator(admin, "accounts.force")
    force = Force.objects.get(pk=admin.force_id or 0)
    with transaction.atomic():
        changed = [f for f in FORCE_SETTINGS if f in values and getattr(force, f) != values[f]]
        for name in changed:
            setattr(force, name, values[name])
        if changed:
            force.save(update_fields=changed)
        # Banned words and charged names are themselves sensitive: the log names the fields.
        record(admin, Category.ALTERATION, "force.settings_changed", force, payload=changed)
    return force
