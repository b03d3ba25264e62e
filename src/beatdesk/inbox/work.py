"""Working a message: claim, assign, snooze, close with an outcome. Every change audited.

check_* validates and authorises; do_* changes the data and records the event.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from beatdesk.accounts.access import refuse
from beatdesk.accounts.models import User
from beatdesk.accounts.policy import MESSAGE_WRITERS, is_active_staff
from beatdesk.audit.actions import Category, record, record_system
from beatdesk.core.clock import now
from beatdesk.inbox.models import Escalation, Message
from beatdesk.inbox.queries import visible_messages
from beatdesk.networks.base import NetworkRefused, NotSupported, TransientError
from beatdesk.networks.registry import known

if TYPE_CHECKING:
    from beatdesk.accounts.models import User


def _writable(user: User, message_id: int) -> Message:
    if not is_active_staff(user) or user.role not in MESSAGE_WRITERS:
        refuse(user, "inbox.message", message_id, "this role cannot work on messages")
    message = visible_messages(user).filter(pk=message_id).first()
    if message is None:
        refuse(user, "inbox.message", message_id, "the message is outside the user's teams")
    return message


def _save(user: User, message: Message, action: str, fields: list[str], why: str = "") -> Message:
    with transaction.atomic():
        message.save(update_fields=fields)
        acknowledge(message)
        record(user, Category.ALTERATION, action, message, justification=why)
    return message


def acknowledge(message: Message) -> None:
    """Any member of staff acting on a message meets its response target."""
    if message.acknowledged_at is None:
        message.acknowledged_at = now()
        Message.objects.filter(pk=message.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=message.acknowledged_at
        )
        Escalation.objects.filter(message=message, resolved_at__isnull=True).update(
            resolved_at=message.acknowledged_at
        )


def do_escalate_breaches() -> int:
    """Messages past their response target that nobody has acknowledged go to the
    supervisors (the alert bar and the "Missed targets" queue). Run it every minute."""
    at = now()
    breached = (
        Message.objects.filter(due_at__lt=at, acknowledged_at__isnull=True)
        .exclude(state=Message.State.CLOSED)
        .filter(escalation__isnull=True)
    )
    count = 0
    for message in breached:
        with transaction.atomic():
            Escalation.objects.create(message=message, escalated_at=at)
            record_system(
                "targets",
                Category.ALTERATION,
                "message.escalated",
                message,
                justification=f"response target passed at {message.due_at:%H:%M}",
            )
        count += 1
    return count


def check_claim(user: User, message_id: int) -> Message:
    message = _writable(user, message_id)
    if message.state == Message.State.CLOSED:
        raise ValidationError("this message is closed: reopen it first")
    if message.assignee_id not in (None, user.pk) and message.state == Message.State.CLAIMED:
        raise ValidationError("someone else has this message in hand")
    message.assignee, message.state, message.snoozed_until = user, Message.State.CLAIMED, None
    return _save(user, message, "message.claimed", ["assignee", "state", "snoozed_until"])


def check_assign(user: User, message_id: int, assignee: User) -> Message:
    message = _writable(user, message_id)
    if not is_active_staff(assignee) or assignee.force_id != user.force_id:
        raise ValidationError("messages go to active staff of this force")
    message.assignee, message.state = assignee, Message.State.CLAIMED
    return _save(user, message, "message.assigned", ["assignee", "state"], f"to user {assignee.pk}")


def check_snooze(user: User, message_id: int, until: dt.datetime) -> Message:
    message = _writable(user, message_id)
    if until <= now():
        raise ValidationError("snooze until a time in the future")
    message.state, message.snoozed_until = Message.State.SNOOZED, until
    return _save(
        user, message, "message.snoozed", ["state", "snoozed_until"], f"until {until.isoformat()}"
    )


def check_close(user: User, message_id: int, outcome: str, reference: str = "") -> Message:
    message = _writable(user, message_id)
    if outcome not in Message.Outcome.values:
        raise ValidationError(f"choose an outcome: {', '.join(Message.Outcome.values)}")
    if outcome == Message.Outcome.CRIME_RECORDED and not reference.strip():
        raise ValidationError("a recorded crime needs the force's crime number")
    if outcome == Message.Outcome.ABUSE_HIDDEN:
        _hide_on_network(user, message)
    message.state, message.outcome = Message.State.CLOSED, outcome
    message.outcome_reference, message.closed_at = reference.strip()[:64], now()
    return _save(
        user,
        message,
        "message.closed",
        ["state", "outcome", "outcome_reference", "closed_at"],
        outcome,
    )


def _hide_on_network(user: User, message: Message) -> None:
    """Hide an abusive comment where the network lets a page do it (Facebook, Instagram)."""
    network = known(message.account.kind)
    if network is None or not network.can_hide_comments:
        return  # the network has no hiding for a page: the outcome records the decision
    if message.account.kind != message.network:
        return  # a recorded message (replay) was never on this account's network
    try:
        network.hide_comment(message.account, message.external_id)
    except (NetworkRefused, TransientError, NotSupported) as exc:
        raise ValidationError(f"the network did not hide it: {exc}") from exc
    with transaction.atomic():
        record(
            user,
            Category.DISCLOSURE,
            "message.hidden_on_network",
            message,
            recipient=f"{message.network}:{message.account.handle}",
        )


def check_reopen(user: User, message_id: int) -> Message:
    message = _writable(user, message_id)
    message.state, message.outcome, message.closed_at = Message.State.OPEN, "", None
    return _save(user, message, "message.reopened", ["state", "outcome", "closed_at"])


def wake_snoozed() -> int:
    """Snoozed messages whose time has come go back to open (run by the worker or poll)."""
    return Message.objects.filter(state=Message.State.SNOOZED, snoozed_until__lte=now()).update(
        state=Message.State.OPEN, snoozed_until=None
    )


AUTO_ROLES = ("desk_operator", "officer")


def do_auto_assign(limit: int = 500) -> int:
    """Give unassigned messages, most urgent and longest waiting first, to the on-shift
    member of the message's team with the least in hand, never beyond their capacity —
    not blind round robin."""
    from django.db.models import Count, F, Q

    people = list(
        User.objects.filter(is_active=True, on_shift=True, role__in=AUTO_ROLES)
        .annotate(
            load=Count(
                "assigned_messages",
                filter=Q(assigned_messages__state=Message.State.CLAIMED),
            )
        )
        .prefetch_related("teams")
    )
    if not people:
        return 0
    load = {p.pk: p.load for p in people}
    teams = {p.pk: {t.pk for t in p.teams.all()} for p in people}
    waiting = (
        Message.objects.filter(state=Message.State.OPEN, assignee__isnull=True, team__isnull=False)
        .order_by(F("triage__grade").asc(nulls_last=True), "received_at")
        .select_related("account")[:limit]
    )
    given = 0
    for message in waiting:
        able = [
            p
            for p in people
            if p.force_id == message.account.force_id
            and message.team_id in teams[p.pk]
            and load[p.pk] < p.capacity
        ]
        if not able:
            continue
        chosen = min(able, key=lambda p: (load[p.pk] / max(p.capacity, 1), load[p.pk]))
        with transaction.atomic():
            claimed = Message.objects.filter(
                pk=message.pk, state=Message.State.OPEN, assignee__isnull=True
            ).update(assignee=chosen, state=Message.State.CLAIMED)
            if not claimed:
                continue
            record_system(
                "auto_assign",
                Category.ALTERATION,
                "message.auto_assigned",
                message,
                justification=(
                    f"to user {chosen.pk}: on shift, {load[chosen.pk]} of {chosen.capacity} in hand"
                ),
            )
        load[chosen.pk] += 1
        given += 1
    return given
