"""Reading operations, watches and what they collected: the only way views and other apps
(the stories board) obtain them. Staff of the force may see operations and watches; every
look at a watch's collected posts is a consultation in the audit log, justified by the
watch's purpose."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count, Max, QuerySet

from beatdesk.accounts.access import hide, refuse
from beatdesk.accounts.models import Role
from beatdesk.accounts.policy import is_active_staff
from beatdesk.audit.actions import Category, record
from beatdesk.monitoring.models import Operation, Watch, WatchPost

if TYPE_CHECKING:
    from beatdesk.accounts.models import User

# Who may propose a watch (analysts read; advisers see no police data).
PROPOSERS = frozenset({Role.OFFICER, Role.DESK_OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR})
# Who approves, refuses or stops watches, and keeps operations.
DECIDERS = frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR})


def may_propose(user: User) -> bool:
    return is_active_staff(user) and user.role in PROPOSERS


def may_decide(user: User) -> bool:
    return is_active_staff(user) and user.role in DECIDERS


def visible_operations(user: User) -> QuerySet[Operation]:
    """Operations of the user's force, for any member of staff; none for anyone else."""
    if not is_active_staff(user) or user.force_id is None:
        return Operation.objects.none()
    return Operation.objects.filter(force_id=user.force_id)


def visible_watches(user: User) -> QuerySet[Watch]:
    """Watches of the user's force (their terms and purposes, not what they collected)."""
    return Watch.objects.filter(operation__in=visible_operations(user))


def with_counts(watches: QuerySet[Watch]) -> QuerySet[Watch]:
    """Each watch with `collected` (posts kept) and `newest` (latest post time)."""
    return watches.annotate(collected=Count("posts"), newest=Max("posts__posted_at"))


def access_operation(user: User, operation_id: int) -> Operation:
    """One operation, for a member of staff of its force (refusals are audited)."""
    found = visible_operations(user).select_related("owner").filter(pk=operation_id).first()
    if found is None:
        if not is_active_staff(user):
            refuse(user, "monitoring.operation", operation_id, "monitoring is for staff")
        hide(
            user,
            "monitoring.operation",
            operation_id,
            "the operation is another force's",
            exists=Operation.objects.filter(pk=operation_id).exists(),
        )
    return found


def access_watch(user: User, watch_id: int) -> Watch:
    """One watch (its term, purpose and state), for a member of staff of its force."""
    found = (
        visible_watches(user)
        .select_related("operation", "owner", "created_by", "approved_by", "account")
        .filter(pk=watch_id)
        .first()
    )
    if found is None:
        if not is_active_staff(user):
            refuse(user, "monitoring.watch", watch_id, "monitoring is for staff")
        hide(
            user,
            "monitoring.watch",
            watch_id,
            "the watch is another force's",
            exists=Watch.objects.filter(pk=watch_id).exists(),
        )
    return found


def consult_watch_posts(user: User, watch: Watch, *, what: str = "results") -> QuerySet[WatchPost]:
    """The posts a watch collected, newest first, for a person to read: recorded as a
    consultation whose justification is the watch's purpose (DPA 2018 s.62)."""
    if watch.operation.force_id != user.force_id or not is_active_staff(user):
        refuse(user, "monitoring.watch", watch.pk, "the watch is another force's")
    with transaction.atomic():
        record(
            user,
            Category.CONSULTATION,
            f"watch.{what}_viewed",
            watch,
            justification=f"{watch.operation.name}: {watch.purpose}"[:500],
        )
    return watch.posts.order_by("-posted_at", "-id")


def consult_operation_posts(
    user: User, operation: Operation, *, what: str = "board"
) -> QuerySet[WatchPost]:
    """Every post the operation's watches collected, for a person to read (the operation
    board): one consultation per watch, each justified by that watch's purpose."""
    if operation.force_id != user.force_id or not is_active_staff(user):
        refuse(user, "monitoring.operation", operation.pk, "the operation is another force's")
    with transaction.atomic():
        for watch in operation.watches.all():
            record(
                user,
                Category.CONSULTATION,
                f"watch.{what}_viewed",
                watch,
                justification=f"{operation.name}: {watch.purpose}"[:500],
            )
    return WatchPost.objects.filter(watch__operation=operation).order_by("-posted_at", "-id")


def approval_queue(user: User) -> QuerySet[Watch]:
    """Watches awaiting a decision, oldest proposal first, for those who decide."""
    if not may_decide(user):
        return Watch.objects.none()
    return (
        visible_watches(user)
        .filter(status=Watch.Status.AWAITING_APPROVAL)
        .select_related("operation", "owner", "created_by", "account")
        .order_by("created_at")
    )
