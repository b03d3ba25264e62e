"""Listening to the networks: fetch since the cursor, store, move the cursor, keep health.

A failing network never loses a message: the cursor moves only after what was fetched is
stored, so a crash or restart fetches the same items again and ingestion drops the
duplicates. Failures back off exponentially with jitter, honouring rate-limit resets.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from beatdesk.accounts.access import refuse
from beatdesk.accounts.models import Role
from beatdesk.audit.actions import Category, record, record_system
from beatdesk.core.clock import now
from beatdesk.networks.base import NetworkRefused, RateLimited, TransientError
from beatdesk.networks.models import ChannelHealth, NetworkAccount
from beatdesk.networks.receiver import receive_many
from beatdesk.networks.registry import UnknownNetwork, connector

if TYPE_CHECKING:
    from beatdesk.accounts.models import User

BASE_BACKOFF_S = 5.0
MAX_BACKOFF_S = 15 * 60.0
REFUSED_BACKOFF_S = 60 * 60.0


@dataclass(frozen=True)
class FetchOutcome:
    account_id: int
    status: str  # "fetched", "waiting", "failed", "refused", "unsupported"
    fetched: int = 0
    stored: int = 0
    detail: str = ""


def backoff_seconds(failures: int, retry_after: float | None = None) -> float:
    """Exponential back-off with full jitter, never earlier than the network asked."""
    ceiling = min(MAX_BACKOFF_S, BASE_BACKOFF_S * 2 ** max(failures - 1, 0))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


def _health(account: NetworkAccount) -> ChannelHealth:
    health, _ = ChannelHealth.objects.get_or_create(account=account)
    return health


def _failed(health: ChannelHealth, at: dt.datetime, message: str, wait: float) -> None:
    health.last_error_at = at
    health.last_error = message[:500]
    health.consecutive_failures += 1
    health.next_attempt_at = at + dt.timedelta(seconds=wait)
    health.save()


def do_fetch(account: NetworkAccount, *, force: bool = False) -> FetchOutcome:
    """One fetch for one account, unless it is backing off (force=True ignores that)."""
    try:
        network = connector(account.kind)
    except UnknownNetwork as exc:
        return FetchOutcome(account.pk, "unsupported", detail=str(exc))
    if not network.can_fetch:
        return FetchOutcome(
            account.pk, "unsupported", detail=f"{account.kind} delivers, it is not fetched"
        )
    health = _health(account)
    at = now()
    if not force and health.next_attempt_at and health.next_attempt_at > at:
        return FetchOutcome(
            account.pk, "waiting", detail=f"backing off until {health.next_attempt_at:%H:%M:%S}"
        )
    health.last_attempt_at = at
    try:
        result = network.fetch(account, account.cursor)
    except RateLimited as exc:
        wait = backoff_seconds(health.consecutive_failures + 1, exc.retry_after)
        _failed(health, at, f"rate limited: {exc}", wait)
        return FetchOutcome(account.pk, "failed", detail=f"rate limited; next try in {wait:.0f}s")
    except TransientError as exc:
        wait = backoff_seconds(health.consecutive_failures + 1, exc.retry_after)
        _failed(health, at, str(exc), wait)
        return FetchOutcome(account.pk, "failed", detail=f"{exc}; next try in {wait:.0f}s")
    except NetworkRefused as exc:
        _failed(health, at, f"refused: {exc}", REFUSED_BACKOFF_S)
        return FetchOutcome(account.pk, "refused", detail=str(exc))
    receipts = receive_many(account, result.bodies)
    with transaction.atomic():
        # The cursor moves only now that everything fetched is stored.
        old_cursor = account.cursor
        NetworkAccount.objects.filter(pk=account.pk).update(cursor=result.cursor)
        account.cursor = result.cursor
        health.last_success_at = at
        health.consecutive_failures = 0
        health.next_attempt_at = None
        health.last_fetched = len(result.bodies)
        health.rate_remaining = result.budget.remaining
        health.rate_limit = result.budget.limit
        health.rate_resets_at = (
            dt.datetime.fromtimestamp(result.budget.resets_at, tz=dt.UTC)
            if result.budget.resets_at
            else None
        )
        health.save()
        if old_cursor != result.cursor:
            record_system(
                "fetch",
                Category.ALTERATION,
                "account.cursor_moved",
                account,
                justification=f"{len(result.bodies)} fetched",
            )
    stored = sum(1 for r in receipts if r.status == "stored")
    return FetchOutcome(account.pk, "fetched", fetched=len(result.bodies), stored=stored)


def fetchable_accounts() -> list[NetworkAccount]:
    accounts = []
    for account in NetworkAccount.objects.filter(is_active=True).select_related("force"):
        try:
            network = connector(account.kind)
        except UnknownNetwork:
            continue
        if network.can_fetch and account.has_credentials:
            accounts.append(account)
    return accounts


# -- connecting an account -----------------------------------------------------------------------


def check_set_credentials(user: User, account: NetworkAccount, updated: dict[str, Any]) -> None:
    """Store an account's credentials, encrypted; the audit event names the fields that
    changed, never their values."""
    if user.role != Role.ADMINISTRATOR or not user.is_active or account.force_id != user.force_id:
        refuse(user, "networks.networkaccount", account.pk, "only administrators connect accounts")
    stored = account.get_credentials()
    with transaction.atomic():
        account.set_credentials(updated)
        account.save(update_fields=["credentials_encrypted"])
        changed = sorted(k for k in updated if updated.get(k) != stored.get(k))
        record(
            user,
            Category.ALTERATION,
            "account.credentials_set",
            account,
            justification="changed: " + (", ".join(changed) or "nothing"),
        )
