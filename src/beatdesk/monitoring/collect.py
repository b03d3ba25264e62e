"""Collecting: each approved, started, unexpired watch searches its network in turn.

Like listening to the force's own accounts (networks.actions.do_fetch): what was found is
stored first, and only then does the watch's cursor move, so a crash or restart collects
the same items again and the database constraint drops the repeats. An item that cannot be
read is kept verbatim with the reason as the watch's dead letter (UnreadableItem), shown
beside the inbox's on the dead-letters page and read again from there. Rate limits and server
failures back off exponentially with jitter, never earlier than the network asked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet

from beatdesk.audit.actions import Category, record_system
from beatdesk.core.clock import now
from beatdesk.core.digest import sha256_hex
from beatdesk.monitoring.actions import do_store_posts
from beatdesk.monitoring.models import UnreadableItem, Watch, WatchPost
from beatdesk.networks.actions import REFUSED_BACKOFF_S, backoff_seconds
from beatdesk.networks.base import (
    NetworkRefused,
    NotSupported,
    PayloadError,
    RateLimited,
    TransientError,
)
from beatdesk.networks.registry import known
from beatdesk.networks.search import SearchTerm, Unread


@dataclass(frozen=True)
class CollectOutcome:
    watch_id: int
    watch: str
    status: str  # "collected", "waiting", "failed", "refused", "not collecting", "fed by replay"
    found: int = 0
    stored: int = 0
    detail: str = ""


def collecting_watches() -> QuerySet[Watch]:
    """Watches that collect now: approved, started, not expired, retention not ended."""
    at = now()
    return Watch.objects.filter(
        status=Watch.Status.ACTIVE,
        starts_at__lte=at,
        expires_at__gt=at,
        operation__retention_until__gt=at,
    ).select_related("operation", "account")


def _failed(watch: Watch, at: dt.datetime, message: str, wait: float) -> None:
    Watch.objects.filter(pk=watch.pk).update(
        last_error=message[:500],
        consecutive_failures=watch.consecutive_failures + 1,
        next_attempt_at=at + dt.timedelta(seconds=wait),
    )


def do_collect(watch: Watch, *, force: bool = False) -> CollectOutcome:
    """One collection for one watch, unless it is backing off (force=True ignores that)."""
    name = str(watch)
    if not watch.is_collecting or watch.operation.retention_ended:
        state = "retention ended" if watch.operation.retention_ended else watch.state
        return CollectOutcome(watch.pk, name, "not collecting", detail=state)
    network = known(watch.network)
    if network is None or not network.can_search:
        return CollectOutcome(watch.pk, name, "fed by replay", detail="`beatdesk replay --watch`")
    at = now()
    if not force and watch.next_attempt_at and watch.next_attempt_at > at:
        detail = f"backing off until {watch.next_attempt_at:%H:%M:%S}"
        return CollectOutcome(watch.pk, name, "waiting", detail=detail)
    failures = watch.consecutive_failures + 1
    try:
        found = network.search(
            SearchTerm(watch.kind, watch.query, watch.cursor, watch.name, watch.account)
        )
    except RateLimited as exc:
        wait = backoff_seconds(failures, exc.retry_after)
        _failed(watch, at, f"rate limited: {exc}", wait)
        return CollectOutcome(
            watch.pk, name, "failed", detail=f"rate limited; next try in {wait:.0f}s"
        )
    except TransientError as exc:
        wait = backoff_seconds(failures, exc.retry_after)
        _failed(watch, at, str(exc), wait)
        return CollectOutcome(watch.pk, name, "failed", detail=f"{exc}; next try in {wait:.0f}s")
    except (NetworkRefused, NotSupported) as exc:
        _failed(watch, at, f"refused: {exc}", REFUSED_BACKOFF_S)
        return CollectOutcome(watch.pk, name, "refused", detail=str(exc))
    with transaction.atomic():
        stored = do_store_posts(watch, found.posts)
        keep_unreadable(watch, found.unread)
        # The cursor moves only now that everything found is stored.
        Watch.objects.filter(pk=watch.pk).update(
            cursor=found.cursor,
            last_collected_at=at,
            last_error="",
            consecutive_failures=0,
            next_attempt_at=None,
        )
        watch.cursor = found.cursor
    detail = f"{found.unreadable} unreadable item(s) kept as dead letters" if found.unread else ""
    return CollectOutcome(watch.pk, name, "collected", len(found.posts), len(stored), detail)


def collect_due_watches() -> list[CollectOutcome]:
    """One round: every watch that collects now, each once (the poller calls this)."""
    return [do_collect(w) for w in collecting_watches() if _searched(w)]


def _searched(watch: Watch) -> bool:
    network = known(watch.network)
    return network is not None and network.can_search


def keep_unreadable(watch: Watch, unread: list[Unread]) -> list[UnreadableItem]:
    """Keep what the network sent and could not be read, once each (a repeat after a restart
    is the same bytes), as the watch's dead letters."""
    if not unread:
        return []
    items = {
        sha256_hex(u.raw): UnreadableItem(
            watch=watch, network=watch.network, body=u.raw, sha256=sha256_hex(u.raw), error=u.error
        )
        for u in unread
    }
    with transaction.atomic():
        UnreadableItem.objects.bulk_create(items.values(), ignore_conflicts=True)
        record_system(
            "watch",
            Category.COLLECTION,
            "watch.unreadable_kept",
            watch,
            justification=f"{len(items)} item(s) the network sent could not be read",
            payload=sorted(items),
        )
    return list(items.values())


def do_reread_item(item: UnreadableItem) -> str:
    """Read a watch's dead letter again (after a connector fix): "stored", "duplicate", or
    PayloadError when it still cannot be read (the reason is kept)."""
    if item.read_at is not None:
        return "stored"
    network = known(item.network)
    try:
        if network is None or not network.can_search:
            raise PayloadError(f"no search reads {item.network} items")
        post = network.read_found(item.body)
    except PayloadError as exc:
        UnreadableItem.objects.filter(pk=item.pk).update(error=str(exc))
        raise
    with transaction.atomic():
        stored = do_store_posts(item.watch, [post])
        kept = (
            WatchPost.objects.filter(
                watch=item.watch, network=post.network, external_id=post.external_id[:200]
            )
            .values_list("pk", flat=True)
            .first()
        )
        UnreadableItem.objects.filter(pk=item.pk).update(read_at=now(), watch_post=kept, error="")
    return "stored" if stored else "duplicate"
