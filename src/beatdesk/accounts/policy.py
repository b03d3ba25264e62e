"""Who may see and do what: roles and teams. The access_* functions use these rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from beatdesk.accounts.models import Role

if TYPE_CHECKING:
    from beatdesk.accounts.models import User

# Roles that work the whole force's inbox; officers see their own teams' queues.
FORCE_WIDE_READERS = frozenset(
    {Role.DESK_OPERATOR, Role.SUPERVISOR, Role.ANALYST, Role.ADMINISTRATOR}
)
# Analysts read for analysis; they do not act on messages.
MESSAGE_WRITERS = frozenset({Role.OFFICER, Role.DESK_OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR})
AUDIT_READERS = frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR})


def is_active_staff(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff_role)


def reads_force_wide(user: User) -> bool:
    return is_active_staff(user) and user.role in FORCE_WIDE_READERS


def may_read_audit(user: User) -> bool:
    return is_active_staff(user) and user.role in AUDIT_READERS


def is_administrator(user: User) -> bool:
    """Users, teams, areas and the force's settings are the administrators' alone."""
    return is_active_staff(user) and user.role == Role.ADMINISTRATOR


def team_ids(user: User) -> set[int]:
    return set(user.teams.values_list("id", flat=True))
