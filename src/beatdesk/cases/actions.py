"""Writes on cases: check_* validates and authorises, do_* changes data and audits it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from beatdesk.accounts.access import refuse
from beatdesk.accounts.policy import MESSAGE_WRITERS, is_active_staff
from beatdesk.audit.actions import Category, record
from beatdesk.cases.models import Case, CaseNote, ReferenceCounter
from beatdesk.cases.queries import visible_cases
from beatdesk.core.clock import now
from beatdesk.inbox.models import Message
from beatdesk.inbox.queries import visible_messages

if TYPE_CHECKING:
    from beatdesk.accounts.models import Force, Team, User


def next_reference(force: Force) -> str:
    """BD-2026-000123: the force's prefix, the year, and a number that never repeats.

    Must run inside a transaction; the counter row is locked until it commits."""
    year = now().year
    counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(force=force, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{force.reference_prefix}-{year}-{counter.last:06d}"


def check_create_case(
    user: User, message_ids: list[int], *, title: str, team: Team | None = None, grade: int = 3
) -> Case:
    if not is_active_staff(user) or user.role not in MESSAGE_WRITERS:
        refuse(user, "cases.case", "new", "this role cannot open cases")
    if not message_ids:
        raise ValidationError("a case starts from at least one message")
    if grade not in Case.Grade.values:
        raise ValidationError(f"grade must be 1 to 4, not {grade}")
    messages = list(visible_messages(user).filter(pk__in=message_ids).select_related("team"))
    if len(messages) != len(set(message_ids)):
        refuse(
            user,
            "inbox.message",
            ",".join(map(str, message_ids)),
            "messages outside the user's teams",
        )
    # The case takes the team of the first message chosen, whatever order the query returns.
    messages.sort(key=lambda m: message_ids.index(m.pk))
    chosen = team or messages[0].team
    if chosen is None:
        raise ValidationError("the message has not been routed to a team yet: choose the team")
    return do_create_case(
        user, messages, title=title.strip() or "Untitled case", team=chosen, grade=grade
    )


def do_create_case(
    user: User, messages: list[Message], *, title: str, team: Team, grade: int
) -> Case:
    with transaction.atomic():
        assert user.force is not None
        case = Case.objects.create(
            force=user.force,
            reference=next_reference(user.force),
            title=title[:200],
            grade=grade,
            team=team,
            created_by=user,
        )
        case.messages.add(*messages)
        record(
            user,
            Category.COMBINATION,
            "case.created",
            case,
            justification=f"{case.reference} from {len(messages)} message(s)",
            payload=[m.pk for m in messages],
        )
    return case


def _case_for_writing(user: User, case_id: int) -> Case:
    if not is_active_staff(user) or user.role not in MESSAGE_WRITERS:
        refuse(user, "cases.case", case_id, "this role cannot change cases")
    case = visible_cases(user).filter(pk=case_id).first()
    if case is None:
        refuse(user, "cases.case", case_id, "the case belongs to another team")
    return case


def check_add_note(user: User, case_id: int, text: str) -> CaseNote:
    case = _case_for_writing(user, case_id)
    text = text.strip()
    if not text:
        raise ValidationError("write the note first")
    with transaction.atomic():
        note = CaseNote.objects.create(case=case, author=user, text=text)
        record(user, Category.ALTERATION, "case.note_added", case, payload=text)
    return note


def check_update_case(
    user: User,
    case_id: int,
    *,
    status: str | None = None,
    force_references: str | None = None,
    legal_hold: bool | None = None,
    legal_hold_reason: str = "",
) -> Case:
    case = _case_for_writing(user, case_id)
    changed = []
    if status is not None and status != case.status:
        if status not in Case.Status.values:
            raise ValidationError(f"unknown status {status!r}")
        case.status = status
        changed.append("status")
    if force_references is not None and force_references.strip() != case.force_references:
        case.force_references = force_references.strip()[:300]
        changed.append("force_references")
    if legal_hold is not None and legal_hold != case.legal_hold:
        if legal_hold and not legal_hold_reason.strip():
            raise ValidationError("say why the case is on legal hold")
        case.legal_hold = legal_hold
        case.legal_hold_reason = legal_hold_reason.strip()[:300] if legal_hold else ""
        changed += ["legal_hold", "legal_hold_reason"]
    if changed:
        with transaction.atomic():
            case.save(update_fields=[*changed, "updated_at"])
            record(
                user, Category.ALTERATION, "case.updated", case, justification=", ".join(changed)
            )
    return case
