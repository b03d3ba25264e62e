"""Appending to and verifying the hash chain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from beatdesk.audit.models import AuditEvent
from beatdesk.core.clock import now, utc_iso
from beatdesk.core.digest import canonical_json, digest_of, sha256_hex

GENESIS = "0" * 64
# Any 64-bit constant: the PostgreSQL advisory lock that serialises appends to the chain.
_PG_LOCK_KEY = 0x6265617464657368


def compute_hash(
    *,
    sequence: int,
    occurred_at: dt.datetime,
    actor_label: str,
    category: str,
    action: str,
    object_type: str,
    object_id: str,
    justification: str,
    recipient: str,
    payload_digest: str,
    prev_hash: str,
) -> str:
    body = canonical_json(
        [
            sequence,
            utc_iso(occurred_at),
            actor_label,
            category,
            action,
            object_type,
            object_id,
            justification,
            recipient,
            payload_digest,
            prev_hash,
        ]
    )
    return sha256_hex(body)


def hash_of(event: AuditEvent) -> str:
    return compute_hash(
        sequence=event.sequence,
        occurred_at=event.occurred_at,
        actor_label=event.actor_label,
        category=event.category,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        justification=event.justification,
        recipient=event.recipient,
        payload_digest=event.payload_digest,
        prev_hash=event.prev_hash,
    )


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
    # SQLite: transactions BEGIN IMMEDIATE (settings), so the writer already holds the lock.


@dataclass(frozen=True)
class Entry:
    """What one audit event says, before the chain gives it a place and a hash."""

    actor_label: str
    category: str
    action: str
    actor_id: int | None = None
    object_type: str = ""
    object_id: str = ""
    justification: str = ""
    recipient: str = ""
    payload: Any = None


def append(
    *,
    actor_id: int | None,
    actor_label: str,
    category: str,
    action: str,
    object_type: str = "",
    object_id: str = "",
    justification: str = "",
    recipient: str = "",
    payload: Any = None,
) -> AuditEvent:
    """Append one event. Must run inside the transaction of the change it records."""
    entry = Entry(
        actor_label, category, action, actor_id, object_type, str(object_id), justification,
        recipient, payload,
    )  # fmt: skip
    return append_many([entry])[0]


def append_many(entries: list[Entry]) -> list[AuditEvent]:
    """Append several events in this order, taking the chain's lock and its last link once.
    Must run inside the transaction they record."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit events are appended inside the transaction they record")
    for entry in entries:
        for name in ("actor_label", "action", "object_type", "object_id"):
            value = str(getattr(entry, name))
            # Every database holds 64 characters here; SQLite would not say so, PostgreSQL would.
            if len(value) > 64:
                raise ValueError(f"audit {name} longer than 64 characters: {value[:80]!r}")
    if not entries:
        return []
    _lock_chain()
    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
    sequence, prev_hash = (last[0], last[1]) if last else (0, GENESIS)
    at = now()
    made = []
    for entry in entries:
        sequence += 1
        event = AuditEvent(
            sequence=sequence,
            occurred_at=at,
            actor_id=entry.actor_id,
            actor_label=entry.actor_label,
            category=entry.category,
            action=entry.action,
            object_type=entry.object_type,
            object_id=str(entry.object_id),
            justification=entry.justification[:500],
            recipient=entry.recipient[:200],
            payload_digest=digest_of(entry.payload),
            prev_hash=prev_hash,
        )
        event.hash = prev_hash = hash_of(event)
        made.append(event)
    AuditEvent.objects.bulk_create(made)
    return made


@dataclass(frozen=True)
class ChainProblem:
    sequence: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    last_sequence: int
    last_hash: str
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _walk() -> Iterator[AuditEvent]:
    yield from AuditEvent.objects.order_by("sequence").iterator(chunk_size=5000)


def verify_chain(checkpoints: dict[int, str] | None = None) -> ChainReport:
    """Walk the chain from the start and stop at the first broken sequence number.

    `checkpoints` maps sequence -> hash from signed checkpoints kept outside the database;
    they catch a truncated tail and a chain rewritten from scratch.
    """
    checkpoints = checkpoints or {}
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    with transaction.atomic():
        for event in _walk():
            if event.sequence != expected_seq:
                if event.sequence > expected_seq:
                    reason = f"sequence {expected_seq} is missing (a row was deleted)"
                else:
                    reason = f"sequence {event.sequence} is out of order"
                return ChainReport(
                    checked, expected_seq - 1, prev_hash, ChainProblem(expected_seq, reason)
                )
            if event.prev_hash != prev_hash:
                return ChainReport(
                    checked,
                    expected_seq - 1,
                    prev_hash,
                    ChainProblem(
                        event.sequence,
                        "its previous-hash does not match the entry before it "
                        "(rows inserted, deleted or reordered)",
                    ),
                )
            if hash_of(event) != event.hash:
                return ChainReport(
                    checked,
                    expected_seq - 1,
                    prev_hash,
                    ChainProblem(event.sequence, "its contents do not match its hash (edited)"),
                )
            if event.sequence in checkpoints and checkpoints[event.sequence] != event.hash:
                return ChainReport(
                    checked,
                    expected_seq - 1,
                    prev_hash,
                    ChainProblem(
                        event.sequence,
                        "it differs from the signed checkpoint taken at this sequence "
                        "(the chain was rewritten)",
                    ),
                )
            checked += 1
            prev_hash = event.hash
            expected_seq += 1
    last_seq = expected_seq - 1
    beyond = sorted(seq for seq in checkpoints if seq > last_seq)
    if beyond:
        return ChainReport(
            checked,
            last_seq,
            prev_hash,
            ChainProblem(
                last_seq + 1,
                f"sequence {last_seq + 1} is missing but a signed checkpoint reached "
                f"sequence {beyond[-1]} (the tail was truncated)",
            ),
        )
    return ChainReport(checked, last_seq, prev_hash, None)
