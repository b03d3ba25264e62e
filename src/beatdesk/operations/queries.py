"""Reading what the channels could not read: deliveries (dead letters) and watch items that
failed, each force's own, for supervisors and administrators; every page of them audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, QuerySet

from beatdesk.accounts.access import guard, refuse
from beatdesk.accounts.models import Role
from beatdesk.accounts.policy import reads_force_wide
from beatdesk.audit.actions import Category, id_range, record
from beatdesk.inbox.models import InboundPayload
from beatdesk.monitoring.models import UnreadableItem

if TYPE_CHECKING:
    from beatdesk.accounts.models import User

DEAD_LETTER_ROLES = frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR})
REFUSED = "dead letters are for supervisors and administrators"


def may_read_dead_letters(user: User) -> bool:
    return reads_force_wide(user) and user.role in DEAD_LETTER_ROLES


def check_dead_letter_reader(user: User) -> None:
    if not may_read_dead_letters(user):
        refuse(user, "inbox.inboundpayload", "*", REFUSED)


def visible_dead_letters(user: User) -> QuerySet[InboundPayload]:
    """Deliveries of this force that could not be read, for the roles that retry them."""
    if not may_read_dead_letters(user):
        return InboundPayload.objects.none()
    return InboundPayload.objects.filter(account__force_id=user.force_id or 0)


def visible_unreadable_items(user: User) -> QuerySet[UnreadableItem]:
    """Items this force's watches collected but could not read."""
    if not may_read_dead_letters(user):
        return UnreadableItem.objects.none()
    return UnreadableItem.objects.filter(watch__operation__force_id=user.force_id or 0)


def dead_letter_counts(user: User) -> dict[int, int]:
    """Account id -> how many of its deliveries failed (counts only: no contents are read)."""
    if not reads_force_wide(user):
        return {}
    failed = InboundPayload.objects.filter(
        status=InboundPayload.Status.FAILED, account__force_id=user.force_id or 0
    )
    return dict(failed.values_list("account").annotate(n=Count("id")).values_list("account", "n"))


def _access(user: User, visible: QuerySet[Any], pk: int, object_type: str) -> Any:
    guard(
        user,
        may_read_dead_letters(user),
        visible,
        pk,
        object_type=object_type,
        refused=REFUSED,
        hidden="the dead letter is another force's",
    )
    return visible.get(pk=pk)


def access_dead_letter(user: User, pk: int) -> InboundPayload:
    found: InboundPayload = _access(user, visible_dead_letters(user), pk, "inbox.inboundpayload")
    return found


def access_unreadable_item(user: User, pk: int) -> UnreadableItem:
    visible = visible_unreadable_items(user).select_related("watch")
    found: UnreadableItem = _access(user, visible, pk, "monitoring.unreadableitem")
    return found


def dead_letters_page(user: User, number: str | None) -> tuple[Page, list[UnreadableItem]]:
    """A page of failed deliveries and the watches' unread items; each list shown is audited
    (the watch items with the watches' purposes)."""
    check_dead_letter_reader(user)
    failed = (
        visible_dead_letters(user)
        .filter(status=InboundPayload.Status.FAILED)
        .select_related("account")
        .order_by("-received_at")
    )
    page = Paginator(failed, 50).get_page(number)
    # What watches collected is kept apart from the inbox: listed apart, and each view
    # audited with the watches' purposes.
    unread_items = list(
        visible_unreadable_items(user)
        .filter(read_at__isnull=True)
        .select_related("watch__operation")
        .order_by("-received_at")[:50]
    )
    with transaction.atomic():
        if page.object_list:
            ids = [p.pk for p in page.object_list]
            record(
                user,
                Category.CONSULTATION,
                "dead_letters.view",
                object_type="inbox.inboundpayload",
                object_id=id_range(ids),
                justification="checking deliveries that could not be read",
                payload=ids,
            )
        if unread_items:
            ids = [i.pk for i in unread_items]
            purposes = sorted({i.watch.purpose for i in unread_items})
            record(
                user,
                Category.CONSULTATION,
                "watch_dead_letters.view",
                object_type="monitoring.unreadableitem",
                object_id=id_range(ids),
                justification=(
                    "checking watch items that could not be read; purpose: " + "; ".join(purposes)
                )[:500],
                payload=ids,
            )
    return page, unread_items
