"""Appending to the audit log, sealing it into a hash chain, and verifying the chain.

Writers never wait on one another. On PostgreSQL an event is written *unsealed*: its own
row, in the writer's transaction, with no sequence and no hash yet. A *sealer* then chains
the committed unsealed events in batches, under one advisory lock per batch: it gives each
the next sequence number, in id order within the batch, and the hash of its fields and of
the previous entry's hash. Why this way and not an RFC 6962 Merkle log: the linear chain,
its hashes and the signed (sequence, hash) checkpoints stay exactly what they were, so
existing logs verify unchanged and `audit verify` names the one broken sequence.

- Only committed events are sealed: the sealer reads under READ COMMITTED, so a row of a
  transaction still open is invisible and waits for a later batch. PostgreSQL hands out
  ids before commit, so ids commit out of order; that does not matter, because the chain's
  order is the sealing order, not the id order. A rolled-back transaction leaves a gap in
  the ids and nothing in the table, and the chain never looks at ids.
- Who seals: every transaction that wrote an event, just after its commit, one batch with
  a try-lock (if another process holds the lock, it is sealing; an event that commits
  while that sealer reads waits for the next write); `audit checkpoint` (the scheduler's
  checkpoint job, the timer) and `audit verify` seal until nothing committed is left,
  waiting for the lock. A sealer's failure is logged and never undoes the write.
- Sealing is the one UPDATE the append-only trigger allows: from no sequence to one, with
  every other field unchanged (migration 0003). Once sealed an event is as tamper-evident
  as any other; until then it is only in the table, and `audit verify` reports how many
  events are unsealed and how old the oldest is.

The force column (whose event it is) is outside the hash: events written before it existed
were given their actor's force by a migration, and covering it would have meant rehashing
the chain and breaking every signed checkpoint. It scopes reading; the append-only trigger
refuses changing it like any other column.

On SQLite a writer holds the whole database for its transaction (BEGIN IMMEDIATE), so an
event is sealed as it is written, as before.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from beatdesk.audit.models import AuditEvent
from beatdesk.core.clock import now, utc_iso
from beatdesk.core.digest import canonical_json, digest_of, sha256_hex

GENESIS = "0" * 64
# Any 64-bit constant: the PostgreSQL advisory lock that one sealer holds per batch.
_PG_LOCK_KEY = 0x6265617464657368
# Events sealed per transaction: one lock, one read of the head, one UPDATE per batch.
SEAL_BATCH = 2000


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
        sequence=event.sequence or 0,
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
    force_id: int | None = None


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
    force_id: int | None = None,
) -> AuditEvent:
    """Append one event. Must run inside the transaction of the change it records."""
    entry = Entry(
        actor_label, category, action, actor_id, object_type, str(object_id), justification,
        recipient, payload, force_id,
    )  # fmt: skip
    return append_many([entry])[0]


def append_many(entries: list[Entry]) -> list[AuditEvent]:
    """Append several events in this order, unsealed (PostgreSQL) or sealed at once (SQLite).
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
    at = now()
    made = [
        AuditEvent(
            occurred_at=at,
            actor_id=entry.actor_id,
            force_id=entry.force_id,
            actor_label=entry.actor_label,
            category=entry.category,
            action=entry.action,
            object_type=entry.object_type,
            object_id=str(entry.object_id),
            justification=entry.justification[:500],
            recipient=entry.recipient[:200],
            payload_digest=digest_of(entry.payload),
        )
        for entry in entries
    ]
    if connection.vendor != "postgresql":
        # SQLite: the writer holds the database (BEGIN IMMEDIATE), so it seals as it writes.
        _link(made, *head())
        AuditEvent.objects.bulk_create(made)
        return made
    AuditEvent.objects.bulk_create(made)
    if not any(hook[1] is _seal_after_commit for hook in connection.run_on_commit):
        transaction.on_commit(_seal_after_commit, robust=True)
    return made


def head() -> tuple[int, str]:
    """The sealed chain's last (sequence, hash); (0, GENESIS) when nothing is sealed."""
    last = (
        AuditEvent.objects.filter(sequence__isnull=False)
        .order_by("-sequence")
        .values_list("sequence", "hash")
        .first()
    )
    return (last[0] or 0, last[1]) if last else (0, GENESIS)


def _link(events: list[AuditEvent], sequence: int, prev_hash: str) -> None:
    for event in events:
        sequence += 1
        event.sequence, event.prev_hash = sequence, prev_hash
        event.hash = prev_hash = hash_of(event)


_last_writer_seal = 0.0


def _seal_after_commit() -> None:
    """A writer seals after its commit at most every BEATDESK_AUDIT_SEAL_EVERY_SECONDS in
    each process: sealing after every write cost a lone writer two thirds of its rate. What
    a burst leaves unsealed is sealed by the next write after the interval, the scheduler's
    seal job, a checkpoint or `audit verify`; until then the append-only trigger guards it."""
    global _last_writer_seal
    every = float(getattr(settings, "BEATDESK_AUDIT_SEAL_EVERY_SECONDS", 0))
    if every > 0 and time.monotonic() - _last_writer_seal < every:
        return
    _last_writer_seal = time.monotonic()
    seal(wait=False)


def _seal_batch(wait: bool) -> int | None:
    """Seal up to SEAL_BATCH committed events; None if another sealer holds the lock."""
    with transaction.atomic(), connection.cursor() as cur:
        if wait:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
        else:
            cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
            if not cur.fetchone()[0]:
                return None
        batch = list(AuditEvent.objects.filter(sequence__isnull=True).order_by("id")[:SEAL_BATCH])
        if batch:
            _link(batch, *head())
            # One statement for the batch (bulk_update's CASE per row cost a writer 2 ms).
            cur.execute(
                "UPDATE audit_auditevent AS a SET sequence = s.sequence, prev_hash = s.prev_hash,"
                " hash = s.hash FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[])"
                " AS s(id, sequence, prev_hash, hash) WHERE a.id = s.id",
                [
                    [e.pk for e in batch],
                    [e.sequence for e in batch],
                    [e.prev_hash for e in batch],
                    [e.hash for e in batch],
                ],
            )
        return len(batch)


def seal(*, wait: bool = True) -> int:
    """Chain every committed unsealed event; the number sealed. With wait=False (a writer
    after its commit): one batch, or 0 at once when another process holds the lock."""
    if connection.vendor != "postgresql":
        return 0
    if connection.in_atomic_block and not wait:
        return 0
    sealed = 0
    while True:
        done = _seal_batch(wait)
        sealed += done or 0
        # A writer's own seal stops after one batch unless it was full: the next write, the
        # checkpoint or verify seals what committed meanwhile (an extra transaction per
        # write cost a single writer half its rate).
        if not done or (not wait and done < SEAL_BATCH):
            return sealed


@dataclass(frozen=True)
class Unsealed:
    """Events written but not yet chained: how many, and when the oldest was written."""

    count: int
    oldest: dt.datetime | None


def unsealed() -> Unsealed:
    rows = AuditEvent.objects.filter(sequence__isnull=True)
    oldest = rows.order_by("id").values_list("occurred_at", flat=True).first()
    return Unsealed(rows.count(), oldest)


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
    sealed = AuditEvent.objects.filter(sequence__isnull=False)
    yield from sealed.order_by("sequence").iterator(chunk_size=5000)


def verify_chain(checkpoints: dict[int, str] | None = None) -> ChainReport:
    """Walk the sealed chain from the start and stop at the first broken sequence number.

    `checkpoints` maps sequence -> hash from signed checkpoints kept outside the database;
    they catch a truncated tail and a chain rewritten from scratch.
    """
    checkpoints = checkpoints or {}
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    with transaction.atomic():
        for event in _walk():
            if event.sequence != expected_seq:
                if (event.sequence or 0) > expected_seq:
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
