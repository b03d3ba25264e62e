"""Reading messages: the only way views, tasks and the API obtain them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q, QuerySet

from beatdesk.accounts.access import hide, refuse
from beatdesk.accounts.policy import is_active_staff, reads_force_wide, team_ids
from beatdesk.audit.actions import Category, record
from beatdesk.core.digest import digest_of
from beatdesk.inbox.models import BulkOperation, Message

if TYPE_CHECKING:
    from beatdesk.accounts.models import User


def visible_messages(user: User) -> QuerySet[Message]:
    """Messages this user may see: the whole force for the desk, own teams for officers."""
    if not is_active_staff(user) or user.force_id is None:
        return Message.objects.none()
    mine = Message.objects.filter(account__force_id=user.force_id)
    if reads_force_wide(user):
        return mine
    teams = team_ids(user)
    return mine.filter(Q(team_id__in=teams) | Q(account__owning_team_id__in=teams))


def visible_bulk_operations(user: User) -> QuerySet[BulkOperation]:
    """Bulk changes made in this user's force (one may be undone by whoever may work them)."""
    if not is_active_staff(user) or user.force_id is None:
        return BulkOperation.objects.none()
    return BulkOperation.objects.filter(user__force_id=user.force_id)


def access_message(user: User, message_id: int, *, purpose: str) -> Message:
    """One message, for a person to read: checked against role and team, and audited."""
    found = (
        visible_messages(user)
        .select_related("account", "team", "area", "conversation", "triage")
        .filter(pk=message_id)
        .first()
    )
    if found is None:
        if not is_active_staff(user):
            refuse(user, "inbox.message", message_id, "messages are for staff")
        hide(
            user,
            "inbox.message",
            message_id,
            "the message is outside the user's teams",
            exists=Message.objects.filter(pk=message_id).exists(),
        )
    with transaction.atomic():
        record(user, Category.CONSULTATION, "message.view", found, justification=purpose)
    return found


def thread_of(user: User, message: Message) -> list[Message]:
    """The other messages of the conversation this user may see (the caller has audited it)."""
    if message.conversation_id is None:
        return [message]
    return list(
        visible_messages(user)
        .filter(conversation_id=message.conversation_id)
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class InboxFilter:
    network: str = ""
    account: int | None = None
    area: int | None = None
    contact_type: str = ""
    grade: int | None = None
    queue: str = "all"
    q: str = ""
    language: str = ""
    personal_data: bool | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    @property
    def description(self) -> str:
        parts = [f"{k}={v}" for k, v in vars(self).items() if v not in ("", None)]
        return ", ".join(parts) or "all"


def inbox_page(user: User, flt: InboxFilter, *, limit: int = 50) -> list[Message]:
    """The messages of a queue matching the filter. A list of what a person saw is audited
    as one consultation (only when what is shown changes, so live polling stays quiet)."""
    qs = queue(user, flt.queue).select_related("account", "team", "area", "triage", "assignee")
    qs = apply_filter(qs, flt)
    return list(qs[:limit])


def search(qs: QuerySet[Message], words: str) -> QuerySet[Message]:
    """Full-text search: SQLite FTS5, PostgreSQL text search; words are all required."""
    import re

    from django.db import connection

    terms = re.findall(r"\w+", words, flags=re.UNICODE)[:12]
    if not terms:
        return qs
    if connection.vendor == "sqlite":
        match = " ".join(f'"{t}"' for t in terms)
        return qs.extra(  # noqa: S610 (parameterised; FTS5 has no ORM lookup)
            where=[
                "inbox_message.id IN (SELECT rowid FROM inbox_message_fts"
                " WHERE inbox_message_fts MATCH %s)"
            ],
            params=[match],
        )
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        return qs.annotate(_search=SearchVector("text", config="simple")).filter(
            _search=SearchQuery(" ".join(terms), config="simple")
        )
    for term in terms:
        qs = qs.filter(text__icontains=term)
    return qs


def apply_filter(qs: QuerySet[Message], flt: InboxFilter) -> QuerySet[Message]:
    if flt.q:
        qs = search(qs, flt.q)
    if flt.language:
        qs = qs.filter(language=flt.language)
    if flt.personal_data is not None:
        qs = (
            qs.exclude(triage__personal_data=[])
            if flt.personal_data
            else qs.filter(triage__personal_data=[])
        )
    if flt.since:
        qs = qs.filter(received_at__date__gte=flt.since)
    if flt.until:
        qs = qs.filter(received_at__date__lte=flt.until)
    if flt.network:
        qs = qs.filter(network=flt.network)
    if flt.account:
        qs = qs.filter(account_id=flt.account)
    if flt.area:
        qs = qs.filter(area_id=flt.area)
    if flt.contact_type:
        qs = qs.filter(triage__contact_type=flt.contact_type)
    if flt.grade:
        qs = qs.filter(triage__grade=flt.grade)
    return qs


def audit_list_view(user: User, messages: list[Message], flt: InboxFilter, last: str) -> str:
    """Record that this list was shown, unless it is the same list as last time."""
    ids = [m.pk for m in messages]
    shown = digest_of(ids)
    if ids and shown != last:
        with transaction.atomic():
            record(
                user,
                Category.CONSULTATION,
                "message.list",
                object_type="inbox.message",
                object_id=f"{min(ids)}..{max(ids)}",
                justification=f"inbox, filter: {flt.description}",
                payload=ids,
            )
    return shown


QUEUES = {
    "all": "All messages",
    "mine": "Mine",
    "unassigned": "Unassigned",
    "emergencies": "Emergencies",
    "awaiting": "Awaiting reply",
    "snoozed": "Snoozed",
    "breached": "Missed targets",
    "closed": "Closed",
}


def queue(user: User, name: str) -> QuerySet[Message]:
    """A queue of work. "all" is newest first; the working queues put the most urgent
    grade first and, within a grade, the longest-waiting first."""
    from django.db.models import F

    base = visible_messages(user)
    live = base.exclude(state=Message.State.CLOSED)
    if name == "mine":
        qs = live.filter(assignee=user).exclude(state=Message.State.SNOOZED)
    elif name == "unassigned":
        qs = live.filter(assignee__isnull=True, state=Message.State.OPEN)
    elif name == "emergencies":
        qs = live.filter(triage__grade=1)
    elif name == "awaiting":
        qs = live.exclude(state=Message.State.SNOOZED).exclude(replies__status="sent")
    elif name == "breached":
        qs = live.filter(escalation__resolved_at__isnull=True, escalation__isnull=False)
    elif name == "snoozed":
        qs = base.filter(state=Message.State.SNOOZED)
    elif name == "closed":
        return base.filter(state=Message.State.CLOSED).order_by("-closed_at", "-id")
    else:
        return base.order_by("-received_at", "-id")
    return qs.order_by(F("triage__grade").asc(nulls_last=True), "received_at", "id")


def queue_counts(user: User) -> dict[str, int]:
    return {name: queue(user, name).count() for name in QUEUES if name not in ("all", "closed")}
