"""Reading cases: the only way views, tasks and the API obtain them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet

from beatdesk.accounts.access import hide, refuse
from beatdesk.accounts.policy import is_active_staff, reads_force_wide, team_ids
from beatdesk.audit.actions import Category, record
from beatdesk.audit.models import AuditEvent
from beatdesk.cases.models import Case
from beatdesk.inbox.models import Message
from beatdesk.inbox.queries import visible_messages

if TYPE_CHECKING:
    from beatdesk.accounts.models import User


def visible_cases(user: User) -> QuerySet[Case]:
    if not is_active_staff(user) or user.force_id is None:
        return Case.objects.none()
    mine = Case.objects.filter(force_id=user.force_id)
    if reads_force_wide(user):
        return mine
    return mine.filter(team_id__in=team_ids(user))


def access_case(user: User, case_id: int, *, purpose: str) -> Case:
    found = visible_cases(user).select_related("team", "assignee").filter(pk=case_id).first()
    if found is None:
        if not is_active_staff(user):
            refuse(user, "cases.case", case_id, "cases are for staff")
        hide(
            user,
            "cases.case",
            case_id,
            "the case belongs to another team",
            exists=Case.objects.filter(pk=case_id).exists(),
        )
    with transaction.atomic():
        record(user, Category.CONSULTATION, "case.view", found, justification=purpose)
    return found


@dataclass(frozen=True)
class CaseMessages:
    """The messages of a case one person may read, and how many are withheld from them."""

    shown: list[Message]
    withheld: int


def case_messages(user: User, case: Case) -> CaseMessages:
    """A case's messages for a person to read: only those of teams this user may see (a case
    can hold messages of several teams); each one shown is a consultation in the audit log."""
    shown = list(
        visible_messages(user)
        .filter(cases=case)
        .select_related("account", "triage")
        .order_by("received_at", "id")
    )
    withheld = case.messages.count() - len(shown)
    if shown:
        with transaction.atomic():
            for message in shown:
                record(
                    user,
                    Category.CONSULTATION,
                    "message.view",
                    message,
                    justification=f"linked to case {case.reference}",
                )
    return CaseMessages(shown, withheld)


def timeline(user: User, case: Case) -> list[Any]:
    """Everything done to the case and to those of its messages this user may see, from the
    audit log, oldest first."""
    from django.db.models import Q

    message_ids = [
        str(pk) for pk in visible_messages(user).filter(cases=case).values_list("pk", flat=True)
    ]
    return list(
        AuditEvent.objects.filter(
            Q(object_type="cases.case", object_id=str(case.pk))
            | Q(object_type="inbox.message", object_id__in=message_ids)
        )
        .exclude(category="consultation")
        .select_related("actor")
        .order_by("sequence", "id")  # an event not yet sealed has no sequence: it is the last
    )
