"""Driving a replay: deliveries on schedule through the one ingestion path."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

from beatdesk.accounts.models import Force
from beatdesk.core.clock import now
from beatdesk.core.outage import patiently
from beatdesk.networks.models import NetworkAccount, NetworkKind
from beatdesk.networks.receiver import receive, receive_many
from beatdesk.networks.replay.client import ReplayFileError, iter_schedule, read_file

FAST_BATCH = 200


def replay_account(handle: str = "replay") -> NetworkAccount:
    account = NetworkAccount.objects.filter(kind=NetworkKind.REPLAY, handle=handle).first()
    if account is not None:
        return account
    forces = list(Force.objects.all()[:2])
    if len(forces) != 1:
        raise ReplayFileError(
            "replay needs exactly one force to deliver to; "
            "run `beatdesk seed_demo` or create the force first"
            if not forces
            else f"several forces exist: create a replay account named {handle!r} for one of them"
        )
    return NetworkAccount.objects.create(
        force=forces[0], kind=NetworkKind.REPLAY, handle=handle, display_name="Recorded traffic"
    )


def replay(
    path: Path,
    *,
    speed: float | None,
    account: NetworkAccount,
    rebase_time: bool = False,
    limit: int | None = None,
    on_delivery: Callable[[int, int, str], None] | None = None,
    on_failed: Callable[[int, str], None] | None = None,
    on_outage: Callable[[str], None] | None = None,
) -> Counter[str]:
    """Deliver every record; returns counts by outcome (stored, duplicate, failed).
    `on_failed(line, reason)` hears of each record kept as a dead letter. When the database
    goes away the replay waits for it and delivers the same batch again (`on_outage` hears
    of each wait): what had been committed comes back as duplicates, nothing is lost."""
    records = read_file(path)
    if limit is not None:
        records = records[:limit]
    outcomes: Counter[str] = Counter()
    start = time.monotonic()
    total = len(records)
    if speed is None and not rebase_time:
        # As fast as possible: whole batches through the same path, a few queries each.
        try:
            for start_at in range(0, total, FAST_BATCH):
                chunk = records[start_at : start_at + FAST_BATCH]
                results = patiently(
                    partial(receive_many, account, [r.delivery for r in chunk]),
                    "replaying",
                    said=on_outage,
                )
                for record, result in zip(chunk, results, strict=True):
                    outcomes[result.status] += 1
                    if on_failed is not None and result.failed:
                        on_failed(record.line, result.error)
                if on_delivery is not None:
                    on_delivery(min(start_at + FAST_BATCH, total), total, "")
        except KeyboardInterrupt:
            outcomes["interrupted"] = total - sum(outcomes.values())
        return outcomes
    try:
        for index, (offset, record) in enumerate(iter_schedule(records, speed), start=1):
            wait = start + offset - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            result = patiently(
                partial(
                    receive, account, record.delivery, created_at=now() if rebase_time else None
                ),
                "replaying",
                said=on_outage,
            )
            outcomes[result.status] += 1
            if on_failed is not None and result.failed:
                on_failed(record.line, result.error)
            if on_delivery is not None:
                on_delivery(index, total, result.status)
    except KeyboardInterrupt:
        # Stopping between deliveries loses nothing: each one was committed on its own.
        outcomes["interrupted"] = total - sum(outcomes.values())
    return outcomes
