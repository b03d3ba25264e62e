"""Reading users, teams, areas and invitations: administrators only, their own force's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from beatdesk.accounts.access import guard, refuse
from beatdesk.accounts.models import Area, Team, User
from beatdesk.accounts.policy import is_administrator
from beatdesk.administration.models import Invitation, token_digest

M = TypeVar("M", User, Team, Area)
REFUSED = "administration is for administrators"


def require_administrator(user: User, object_type: str) -> None:
    """403, audited, for anyone but an active administrator."""
    if not is_administrator(user):
        refuse(user, object_type, "", REFUSED)


def visible_users(user: User) -> QuerySet[User]:
    if not is_administrator(user):
        return User.objects.none()
    return User.objects.filter(force=user.force_id)


def visible_teams(user: User) -> QuerySet[Team]:
    if not is_administrator(user):
        return Team.objects.none()
    return Team.objects.filter(force=user.force_id)


def visible_areas(user: User) -> QuerySet[Area]:
    if not is_administrator(user):
        return Area.objects.none()
    return Area.objects.filter(force=user.force_id)


def _access(user: User, visible: QuerySet[M], pk: int, kind: str) -> M:
    guard(
        user,
        is_administrator(user),
        visible,
        pk,
        object_type=kind,
        refused=REFUSED,
        hidden="another force's record",
    )
    return visible.get(pk=pk)


def access_user(user: User, pk: int) -> User:
    return _access(user, visible_users(user), pk, "accounts.user")


def access_team(user: User, pk: int) -> Team:
    return _access(user, visible_teams(user), pk, "accounts.team")


def access_area(user: User, pk: int) -> Area:
    return _access(user, visible_areas(user), pk, "accounts.area")


@dataclass
class UserRow:
    user: User
    teams: list[Team]
    invitation: Invitation | None  # the newest one not accepted, if any

    @property
    def invitation_state(self) -> str:
        if self.invitation is None:
            return ""
        if self.invitation.mailed_at is None:
            return "invitation not mailed (the mail server refused it): send a new one"
        return "invited" if self.invitation.is_open else "invitation expired"


def user_rows(user: User) -> list[UserRow]:
    """The users list: each with their teams, last sign-in and any pending invitation."""
    pending = Invitation.objects.filter(accepted_at__isnull=True).order_by("-created_at")
    users = (
        visible_users(user)
        .order_by("username")
        .prefetch_related("teams", Prefetch("invitations", queryset=pending, to_attr="pending"))
    )
    return [
        UserRow(u, list(u.teams.all()), u.pending[0] if u.pending else None)  # type: ignore[attr-defined]
        for u in users
    ]


def open_invitation(token: str) -> Invitation | None:
    """The invitation this link's token opens, if it is unused, not expired, and its user
    not disabled since."""
    invitation = (
        Invitation.objects.select_related("user", "force")
        .filter(token_sha256=token_digest(token), accepted_at__isnull=True, user__is_active=True)
        .first()
    )
    if invitation is None or invitation.expires_at <= timezone.now():
        return None
    return invitation
