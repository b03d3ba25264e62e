"""Changing operations and watches, storing what watches collect, and retention.

check_* validates and authorises, then calls do_*; do_* changes data and records the audit
event in the same transaction. Collection itself is in monitoring.collect.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q

from beatdesk.accounts.access import refuse
from beatdesk.accounts.models import User
from beatdesk.audit.actions import Category, record, record_system
from beatdesk.cases.queries import access_case
from beatdesk.core.clock import now
from beatdesk.core.digest import sha256_hex
from beatdesk.monitoring.models import Operation, Watch, WatchPost
from beatdesk.monitoring.queries import may_decide, may_propose
from beatdesk.monitoring.rules import watch_problems
from beatdesk.monitoring.signals import posts_collected
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import known
from beatdesk.networks.search import FoundPost

if TYPE_CHECKING:
    from beatdesk.cases.models import Case


# --- operations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OperationFields:
    name: str
    description: str
    owner: User
    retention_until: dt.datetime
    area_outline: list[Any]
    alert_email: str = ""
    alert_webhook: str = ""


def _check_operation_fields(user: User, fields: OperationFields, *, exclude: int | None) -> None:
    problems: dict[str, str] = {}
    if not fields.name.strip():
        problems["name"] = "An operation needs a name."
    elif (
        Operation.objects.filter(force=user.force, name=fields.name.strip())
        .exclude(pk=exclude or 0)
        .exists()
    ):
        problems["name"] = "The force already has an operation with this name."
    if fields.owner.force_id != user.force_id or not fields.owner.is_staff_role:
        problems["owner"] = "The owner must be a member of the force's staff."
    if fields.retention_until <= now():
        problems["retention_until"] = "Retention must end in the future."
    if not isinstance(fields.area_outline, list) or any(
        not isinstance(p, list | tuple) or len(p) != 2 for p in fields.area_outline
    ):
        problems["area_outline"] = "The area outline is a list of [latitude, longitude] points."
    if problems:
        raise ValidationError(problems)


def check_create_operation(user: User, fields: OperationFields) -> Operation:
    if not may_decide(user) or user.force_id is None:
        refuse(user, "monitoring.operation", "", "only supervisors set up operations")
    _check_operation_fields(user, fields, exclude=None)
    return do_create_operation(user, fields)


def do_create_operation(user: User, fields: OperationFields) -> Operation:
    assert user.force is not None, "operations belong to a force"
    with transaction.atomic():
        operation = Operation.objects.create(
            force=user.force,
            name=fields.name.strip(),
            description=fields.description,
            owner=fields.owner,
            retention_until=fields.retention_until,
            area_outline=fields.area_outline,
            alert_email=fields.alert_email,
            alert_webhook=fields.alert_webhook,
        )
        record(user, Category.COLLECTION, "operation.created", operation)
    return operation


def check_update_operation(user: User, operation: Operation, fields: OperationFields) -> Operation:
    if not may_decide(user) or operation.force_id != user.force_id:
        refuse(user, "monitoring.operation", operation.pk, "only supervisors change operations")
    _check_operation_fields(user, fields, exclude=operation.pk)
    return do_update_operation(user, operation, fields)


def do_update_operation(user: User, operation: Operation, fields: OperationFields) -> Operation:
    with transaction.atomic():
        for name, value in vars(fields).items():
            setattr(operation, name, value.strip() if name == "name" else value)
        operation.save()
        record(user, Category.ALTERATION, "operation.changed", operation)
    return operation


def check_delete_operation(user: User, operation: Operation) -> None:
    if not may_decide(user) or operation.force_id != user.force_id:
        refuse(user, "monitoring.operation", operation.pk, "only supervisors delete operations")
    if operation.watches.exists():
        raise ValidationError(
            "An operation with watches is not deleted: stop its watches; what they collected "
            "is deleted when the operation's retention ends."
        )
    do_delete_operation(user, operation)


def do_delete_operation(user: User, operation: Operation) -> None:
    with transaction.atomic():
        record(user, Category.ERASURE, "operation.deleted", operation)
        operation.delete()


# --- watches ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WatchFields:
    operation: Operation
    name: str
    network: str
    kind: str
    query: str
    purpose: str
    owner: User | None
    starts_at: dt.datetime | None
    expires_at: dt.datetime | None
    account: NetworkAccount | None = None


def _needs_account(kind: str) -> bool:
    """Whether the network is searched through one of the force's accounts there (a feed
    or a replay needs none)."""
    network = known(kind)
    return network is not None and network.search_needs_account


def _account_problem(fields: WatchFields) -> str:
    account = fields.account
    if not _needs_account(fields.network):
        return ""
    if account is None:
        return f"A {fields.network} watch searches through one of the force's own accounts there."
    if account.kind != fields.network or account.force_id != fields.operation.force_id:
        return f"Choose one of the force's own {fields.network} accounts."
    return ""


def watch_field_problems(fields: WatchFields) -> dict[str, str]:
    """Every reason this watch may not be saved, by field ({} when it may)."""
    problems = watch_problems(
        network=fields.network,
        kind=fields.kind,
        query=fields.query,
        purpose=fields.purpose,
        has_owner=fields.owner is not None,
        starts_at=fields.starts_at,
        expires_at=fields.expires_at,
    )
    if not fields.name.strip():
        problems["name"] = "A watch needs a name."
    elif fields.operation.watches.filter(name=fields.name.strip()).exists():
        problems["name"] = "The operation already has a watch with this name."
    owner = fields.owner
    if owner is not None and (
        owner.force_id != fields.operation.force_id or not owner.is_staff_role
    ):
        problems["owner"] = "The owner must be a member of the force's staff."
    if (
        "expires_at" not in problems
        and fields.expires_at is not None
        and fields.expires_at > fields.operation.retention_until
    ):
        problems["expires_at"] = (
            "The watch must end before the operation's retention does "
            f"({fields.operation.retention_until:%d %b %Y %H:%M} UTC)."
        )
    if account_problem := _account_problem(fields):
        problems["account"] = account_problem
    return problems


def check_propose_watch(user: User, fields: WatchFields) -> Watch:
    """Propose a watch: it waits for a supervisor's approval before it collects anything.

    A watch on a person is refused, and the attempt is kept in the audit log."""
    if not may_propose(user) or fields.operation.force_id != user.force_id:
        refuse(
            user,
            "monitoring.operation",
            fields.operation.pk,
            "analysts and advisers do not propose watches",
        )
    problems = watch_field_problems(fields)
    if problems:
        if "query" in problems and problems["query"].startswith("Refused"):
            with transaction.atomic():
                record(
                    user,
                    Category.AUTHORIZATION,
                    "watch.refused_on_person",
                    fields.operation,
                    justification=problems["query"][:500],
                )
        raise ValidationError(problems)
    return do_propose_watch(user, fields)


def do_propose_watch(user: User, fields: WatchFields) -> Watch:
    assert fields.owner is not None and fields.starts_at and fields.expires_at
    with transaction.atomic():
        watch = Watch(
            operation=fields.operation,
            name=fields.name.strip(),
            network=fields.network,
            account=fields.account if _needs_account(fields.network) else None,
            kind=fields.kind,
            query=fields.query.strip(),
            purpose=fields.purpose.strip(),
            owner=fields.owner,
            starts_at=fields.starts_at,
            expires_at=fields.expires_at,
            created_by=user,
        )
        watch.full_clean(exclude=["cursor"])
        watch.save()
        record(
            user,
            Category.COLLECTION,
            "watch.proposed",
            watch,
            justification=watch.purpose[:500],
            payload={"network": watch.network, "kind": watch.kind, "query": watch.query},
        )
    return watch


def _check_decider(user: User, watch: Watch, verb: str) -> None:
    if not may_decide(user):
        refuse(user, "monitoring.watch", watch.pk, f"only supervisors {verb} watches")
    if watch.operation.force_id != user.force_id:
        refuse(user, "monitoring.watch", watch.pk, "the watch is another force's")


def check_approve_watch(user: User, watch: Watch, note: str = "") -> Watch:
    _check_decider(user, watch, "approve")
    if watch.status != Watch.Status.AWAITING_APPROVAL:
        raise ValidationError(
            f"This watch is {watch.get_status_display().lower()}, not awaiting approval."
        )
    if watch.created_by_id == user.pk:
        raise ValidationError(
            "Another supervisor approves a watch you proposed: a second pair of eyes."
        )
    if watch.is_expired:
        raise ValidationError(
            "This watch has already expired: propose a new one if it is still needed."
        )
    watch.full_clean(exclude=["cursor"])  # the rules may have tightened since it was proposed
    return do_approve_watch(user, watch, note)


def do_approve_watch(user: User, watch: Watch, note: str = "") -> Watch:
    with transaction.atomic():
        watch.status = Watch.Status.ACTIVE
        watch.approved_by = user
        watch.approved_at = now()
        watch.decision_reason = note.strip()
        watch.save(update_fields=["status", "approved_by", "approved_at", "decision_reason"])
        record(
            user,
            Category.AUTHORIZATION,
            "watch.approved",
            watch,
            justification=(note.strip() or watch.purpose)[:500],
        )
    return watch


def check_refuse_watch(user: User, watch: Watch, reason: str) -> Watch:
    _check_decider(user, watch, "refuse")
    if watch.status != Watch.Status.AWAITING_APPROVAL:
        raise ValidationError(
            f"This watch is {watch.get_status_display().lower()}, not awaiting approval."
        )
    if not reason.strip():
        raise ValidationError("Say why the watch is refused: the proposer reads it.")
    return do_decide(user, watch, Watch.Status.REFUSED, reason, "watch.refused")


def check_stop_watch(user: User, watch: Watch, reason: str) -> Watch:
    """Stop a watch for good (its owner or a supervisor); what it collected is kept until
    the operation's retention ends."""
    if watch.owner_id != user.pk:
        _check_decider(user, watch, "stop other people's")
    if watch.status != Watch.Status.ACTIVE:
        raise ValidationError(f"This watch is {watch.get_status_display().lower()}, not running.")
    if not reason.strip():
        raise ValidationError("Say why the watch is stopped.")
    return do_decide(user, watch, Watch.Status.STOPPED, reason, "watch.stopped")


def do_decide(user: User, watch: Watch, status: str, reason: str, action: str) -> Watch:
    with transaction.atomic():
        watch.status = status
        watch.decision_reason = reason.strip()
        watch.save(update_fields=["status", "decision_reason"])
        record(user, Category.AUTHORIZATION, action, watch, justification=reason.strip()[:500])
    return watch


# --- storing collected posts --------------------------------------------------------------


# One public post as a watch collected it: `raw` is the network's JSON for it, verbatim.
CollectedPost = FoundPost


def do_store_posts(
    watch: Watch, posts: list[CollectedPost], *, component: str = "watch"
) -> list[int]:
    """Store what a watch collected, raw first, once each (a database constraint on watch,
    network and external id drops repeats); the ids of the new WatchPosts. posts_collected
    is sent with them once the transaction commits."""
    unique: dict[tuple[str, str], CollectedPost] = {}
    for post in posts:
        unique.setdefault((post.network, post.external_id[:200]), post)
    if not unique:
        return []
    with transaction.atomic():
        known = set(
            WatchPost.objects.filter(
                watch=watch, external_id__in=[key[1] for key in unique]
            ).values_list("network", "external_id")
        )
        fresh = [post for key, post in unique.items() if key not in known]
        WatchPost.objects.bulk_create(
            [
                WatchPost(
                    watch=watch,
                    network=post.network,
                    external_id=post.external_id[:200],
                    author_handle=post.author_handle[:200],
                    text=post.text,
                    language=post.language[:16],
                    posted_at=post.posted_at,
                    latitude=post.latitude,
                    longitude=post.longitude,
                    raw=post.raw,
                    sha256=sha256_hex(post.raw),
                )
                for post in fresh
            ],
            ignore_conflicts=True,  # a concurrent collector stored some first: theirs stand
            batch_size=500,
        )
        ids = _new_ids(watch, fresh, known)
        if ids:
            record_system(
                component,
                Category.COLLECTION,
                "watch.collected",
                watch,
                justification=f"{len(ids)} new of {len(unique)} collected",
            )
            transaction.on_commit(
                lambda: posts_collected.send(
                    sender=WatchPost, watch_post_ids=ids, watch_id=watch.pk
                )
            )
    return ids


def _new_ids(watch: Watch, fresh: list[CollectedPost], known: set[tuple[str, str]]) -> list[int]:
    if not fresh:
        return []
    rows = WatchPost.objects.filter(
        watch=watch, external_id__in=[p.external_id[:200] for p in fresh]
    ).values_list("id", "network", "external_id")
    return sorted(pk for pk, network, external_id in rows if (network, external_id) not in known)


# --- holding and retention ----------------------------------------------------------------


def check_hold_posts(user: User, watch: Watch, post_ids: list[int], case: Case) -> int:
    """Keep collected posts past the operation's retention because a case needs them (CPIA)."""
    if not may_propose(user) or watch.operation.force_id != user.force_id:
        refuse(user, "monitoring.watch", watch.pk, "analysts and advisers do not hold evidence")
    case = access_case(user, case.pk, purpose=f"holding posts collected by watch {watch.name}")
    return do_hold_posts(user, watch, post_ids, case)


def do_hold_posts(user: User, watch: Watch, post_ids: list[int], case: Case) -> int:
    with transaction.atomic():
        held = watch.posts.filter(pk__in=post_ids).update(held_by_case=case)
        record(
            user,
            Category.ALTERATION,
            "watch.posts_held",
            watch,
            justification=f"{held} post(s) held by case {case.reference}",
        )
    return held


@dataclass(frozen=True)
class Purged:
    operation: str
    deleted: int
    held: int


def purge_expired_operations() -> list[Purged]:
    """Delete what watches collected for operations whose retention has ended, unless a case
    holds it; each erasure is in the audit log with its counts (system actor)."""
    purged: list[Purged] = []
    due = (
        Operation.objects.filter(retention_until__lte=now())
        .annotate(
            unheld=Count("watches__posts", filter=Q(watches__posts__held_by_case__isnull=True)),
            held=Count("watches__posts", filter=Q(watches__posts__held_by_case__isnull=False)),
        )
        .filter(unheld__gt=0)
    )
    for operation in due:
        with transaction.atomic():
            _, by_model = WatchPost.objects.filter(
                watch__operation=operation, held_by_case__isnull=True
            ).delete()
            deleted = by_model.get(WatchPost._meta.label, 0)
            record_system(
                "retention",
                Category.ERASURE,
                "operation.retention_purged",
                operation,
                justification=(
                    f"retention ended {operation.retention_until:%Y-%m-%d %H:%M} UTC: "
                    f"{deleted} collected post(s) deleted, {operation.held} kept (held by a case)"
                ),
            )
        purged.append(Purged(operation.name, deleted, operation.held))
    return purged
