"""Reading the audit log: each force's supervisors and administrators read their own force's
events, and reading them is itself on record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import F, QuerySet

from beatdesk.accounts.access import refuse
from beatdesk.accounts.policy import may_read_audit
from beatdesk.audit.actions import record
from beatdesk.audit.models import AuditEvent, Category

if TYPE_CHECKING:
    from beatdesk.accounts.models import User

PAGE_SIZE = 100


def visible_audit_events(user: User) -> QuerySet[AuditEvent]:
    """The events of this reader's own force; none for anyone who may not read the log."""
    if not may_read_audit(user) or user.force_id is None:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(force_id=user.force_id)


def audit_log_page(user: User, *, category: str = "", number: str | None = None) -> Page:
    """One page of the log, newest first (unsealed events, with no sequence yet, are the
    newest), refused (403) to other roles; the reading is audited as a consultation."""
    if not may_read_audit(user):
        refuse(
            user, "audit.auditevent", "*", "only supervisors and administrators read the audit log"
        )
    events = (
        visible_audit_events(user)
        .select_related("actor")
        .order_by(F("sequence").desc(nulls_first=True), "-id")
    )
    if category in Category.values:
        events = events.filter(category=category)
    page = Paginator(events, PAGE_SIZE).get_page(number)
    shown = [e.pk for e in page.object_list]
    with transaction.atomic():
        record(
            user,
            Category.CONSULTATION,
            "audit.viewed",
            object_type="audit.auditevent",
            object_id=f"{min(shown)}..{max(shown)}" if shown else "",
            justification=f"audit log page {page.number}"
            + (f", category {category}" if category in Category.values else ""),
            payload=shown,
        )
    return page
