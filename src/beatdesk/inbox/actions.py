"""The ingestion path every network uses, and the desk's writes on messages.

receive → store raw (committed first) → normalise → deduplicate on (network, external id)
→ thread into a conversation → hand on to background work (routing, and triage later).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction

from beatdesk.accounts.access import refuse
from beatdesk.accounts.models import Role
from beatdesk.accounts.policy import is_active_staff
from beatdesk.audit.actions import Category, record, record_system
from beatdesk.core.clock import now
from beatdesk.core.digest import sha256_hex
from beatdesk.core.sql import insert_new, insert_returning, update_many
from beatdesk.core.tasks import hand_on
from beatdesk.core.text import decoded, exact_bytes, is_storable, storable
from beatdesk.inbox.models import Conversation, InboundPayload, Message, ResponseTarget
from beatdesk.inbox.tasks import process_message, process_messages
from beatdesk.networks.base import Inbound, PayloadError
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.receiver import Received
from beatdesk.networks.registry import UnknownNetwork, connector
from beatdesk.publishing.models import Post

if TYPE_CHECKING:
    from beatdesk.accounts.models import User

logger = logging.getLogger(__name__)


def _payload(account: NetworkAccount, body: str | bytes) -> InboundPayload:
    """An unsaved InboundPayload keeping the delivery as it came: as text when its bytes are
    text every database stores, else a readable copy and the exact bytes beside it."""
    exact = exact_bytes(body)
    try:
        text, whole = decoded(exact), True
    except UnicodeDecodeError:
        text, whole = exact.decode("utf-8", "replace"), False
    kept = None if whole and is_storable(text) else exact
    return InboundPayload(
        network=account.kind,
        account=account,
        body=storable(text),
        body_bytes=kept,
        sha256=sha256_hex(exact),
    )


def _source(payload: InboundPayload) -> str:
    """What the connector reads: the delivery's own text, lone surrogates and all."""
    if payload.body_bytes is None:
        return payload.body
    try:
        return decoded(bytes(payload.body_bytes))
    except UnicodeDecodeError as exc:
        raise PayloadError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from exc


def _store_payload(account: NetworkAccount, body: str | bytes) -> InboundPayload:
    payload = _payload(account, body)
    with transaction.atomic():
        payload.save(force_insert=True)
        record_system(
            "ingest", Category.COLLECTION, "payload.received", payload, payload=exact_bytes(body)
        )
    return payload


_SCALARS = (str, int, bool, type(None))


def _attachment(value: dict[Any, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, float) and math.isfinite(item) or isinstance(item, _SCALARS):
            kept[storable(str(key))] = storable(item) if isinstance(item, str) else item
    return kept


def _storable_item(item: Inbound) -> Inbound:
    """The normalised message as every database stores it: no NUL, no half emoji (each
    shown as U+FFFD), fields cut to their columns (never the id, which is the message's
    identity), attachments flat."""
    if len(item.external_id) > 200:
        raise PayloadError(f"an id of {len(item.external_id)} characters (at most 200)")
    if not item.external_id.strip():
        raise PayloadError("a message without an id")
    return dataclasses.replace(
        item,
        external_id=storable(item.external_id),
        author_handle=storable(item.author_handle)[:200],
        author_name=storable(item.author_name)[:200],
        text=storable(item.text),
        language=storable(item.language)[:16],
        reply_to=storable(item.reply_to)[:200],
        thread_id=storable(item.thread_id)[:200],
        account_handle=storable(item.account_handle),
        attachments=[_attachment(a) for a in item.attachments if isinstance(a, dict)],
    )


def _read(kind: str, payload: InboundPayload) -> Inbound:
    """The delivery normalised by its network's connector, or PayloadError saying why not."""
    source = _source(payload)
    try:
        item = connector(kind).normalise(source)
    except (PayloadError, UnknownNetwork):
        raise
    except Exception as exc:
        # A connector's own fault must not lose the delivery or stop a batch: it becomes a
        # dead letter, read again once the connector is fixed.
        logger.exception("the %s connector failed on payload %s", kind, payload.pk)
        raise PayloadError(
            f"the {kind} connector failed: {type(exc).__name__}: {exc}"[:500]
        ) from exc
    return _storable_item(item)


def _addressed_account(via: NetworkAccount, item: Inbound) -> NetworkAccount:
    """Recorded traffic names the account it was addressed to; use it when the force has it."""
    if item.account_handle and (item.network != via.kind or item.account_handle != via.handle):
        found = NetworkAccount.objects.filter(
            force_id=via.force_id, kind=item.network, handle=item.account_handle
        ).first()
        if found is not None:
            return found
    return via


def _thread(item: Inbound, account: NetworkAccount, at: dt.datetime) -> tuple[str, Conversation]:
    parent = None
    if item.reply_to:
        parent = (
            Message.objects.filter(network=item.network, external_id=item.reply_to)
            .only("thread_id", "conversation_id")
            .first()
        )
    if parent is not None and parent.thread_id:
        thread_id = parent.thread_id
    else:
        thread_id = item.thread_id or item.reply_to or item.external_id
    conversation, created = Conversation.objects.get_or_create(
        network=item.network,
        account=account,
        thread_key=thread_id,
        defaults={"started_at": at, "last_message_at": at},
    )
    if not created and conversation.last_message_at < at:
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=at)
    return thread_id, conversation


def _message(
    item: Inbound,
    via: str,
    account: NetworkAccount,
    body: str,
    sha256: str,
    received: dt.datetime,
    thread_id: str = "",
) -> Message:
    """An unsaved Message from a normalised item, the raw body kept verbatim beside it."""
    return Message(
        network=item.network,
        external_id=item.external_id,
        via=via,
        account=account,
        author_handle=item.author_handle,
        author_name=item.author_name,
        text=item.text,
        language=item.language,
        created_at=item.created_at,
        received_at=received,
        reply_to_external_id=item.reply_to,
        thread_id=thread_id,
        attachments=item.attachments,
        raw=body,
        raw_sha256=sha256,
    )


def _is_own(item: Inbound) -> bool:
    """Our own outgoing post coming back (webhooks echo them): never an inbound message."""
    return Post.objects.filter(account__kind=item.network, external_id=item.external_id).exists()


def do_receive(
    account: NetworkAccount, body: str | bytes, *, created_at: dt.datetime | None = None
) -> Received:
    """Take one delivery from a network (its text, or its bytes as they came). Safe to call
    twice, or from two processes at once."""
    return _ingest(account, _store_payload(account, body), created_at)


def _ingest(
    account: NetworkAccount, payload: InboundPayload, created_at: dt.datetime | None
) -> Received:
    body = payload.body
    try:
        item = _read(account.kind, payload)
    except (PayloadError, UnknownNetwork) as exc:
        with transaction.atomic():
            InboundPayload.objects.filter(pk=payload.pk).update(
                status=InboundPayload.Status.FAILED, error=storable(str(exc))
            )
        return Received(payload.pk, InboundPayload.Status.FAILED, error=storable(str(exc)))

    if _is_own(item):
        InboundPayload.objects.filter(pk=payload.pk).update(status=InboundPayload.Status.OWN)
        return Received(payload.pk, InboundPayload.Status.OWN)
    with transaction.atomic():
        existing = (
            Message.objects.filter(network=item.network, external_id=item.external_id)
            .values_list("pk", flat=True)
            .first()
        )
        message = None
        if existing is None:
            addressed = _addressed_account(account, item)
            received = now()
            try:
                # A savepoint: if another process stored it first, the constraint says so.
                with transaction.atomic():
                    thread_id, conversation = _thread(item, addressed, received)
                    message = _message(
                        item, account.kind, addressed, body, payload.sha256, received, thread_id
                    )
                    message.created_at = created_at or item.created_at
                    message.conversation = conversation
                    message.save(force_insert=True)
            except IntegrityError:
                message = None  # never saved: another delivery stored it first
                existing = (
                    Message.objects.filter(network=item.network, external_id=item.external_id)
                    .values_list("pk", flat=True)
                    .first()
                )
                if existing is None:
                    raise
        if message is None:
            InboundPayload.objects.filter(pk=payload.pk).update(
                status=InboundPayload.Status.DUPLICATE, message_id=existing
            )
            return Received(payload.pk, InboundPayload.Status.DUPLICATE, existing)
        InboundPayload.objects.filter(pk=payload.pk).update(
            status=InboundPayload.Status.STORED, message=message
        )
        record_system(
            "ingest", Category.COLLECTION, "message.stored", message, payload=_exact(payload)
        )
        message_id = message.pk
        transaction.on_commit(lambda: _hand_on(message_id))
    return Received(payload.pk, InboundPayload.Status.STORED, message_id)


def _hand_on(message_id: int) -> None:
    hand_on(process_message, message_id)


def _exact(payload: InboundPayload) -> bytes:
    return bytes(payload.body_bytes) if payload.body_bytes is not None else payload.body.encode()


def do_receive_many(
    account: NetworkAccount, bodies: Sequence[str | bytes], *, hand_on: bool = True
) -> list[Received]:
    """Take a batch of deliveries at once: the same steps as do_receive, in a few queries.

    Used for catch-up after an outage, replays and surges. If another process stores one
    of the same messages meanwhile, the batch falls back to one-by-one, which handles it.
    """
    if not bodies:
        return []
    with transaction.atomic():
        payloads = [_payload(account, b) for b in bodies]
        insert_returning(InboundPayload, payloads)
        record_system(
            "ingest",
            Category.COLLECTION,
            "payloads.received",
            object_type="inbox.inboundpayload",
            object_id=f"{payloads[0].pk}..{payloads[-1].pk}",
            justification=f"{len(payloads)} deliveries from {account.kind}",
            payload=[p.sha256 for p in payloads],
        )
    results: list[Received | None] = [None] * len(bodies)
    items: list[tuple[int, Inbound]] = []
    failed: list[InboundPayload] = []
    for i, payload in enumerate(payloads):
        try:
            items.append((i, _read(account.kind, payload)))
        except (PayloadError, UnknownNetwork) as exc:
            payload.status, payload.error = InboundPayload.Status.FAILED, storable(str(exc))
            failed.append(payload)
            results[i] = Received(payload.pk, payload.status, error=storable(str(exc)))
    if failed:
        InboundPayload.objects.bulk_update(failed, ["status", "error"])
    try:
        with transaction.atomic():
            stored = _store_batch(account, payloads, items, results)
    except IntegrityError:
        # A concurrent delivery of the same message: let the one-by-one path sort it out.
        for i, _item in items:
            results[i] = _ingest(account, payloads[i], None)
        stored = [r.message_id for r in results if r and r.status == "stored" and r.message_id]
    if hand_on and stored:
        for start in range(0, len(stored), 500):
            transaction.on_commit(_enqueue_batch(stored[start : start + 500]))
    return [r for r in results if r is not None]


def _enqueue_batch(ids: list[int]) -> Callable[[], None]:
    def enqueue() -> None:
        hand_on(process_messages, ids)

    return enqueue


def _store_batch(
    account: NetworkAccount,
    payloads: list[InboundPayload],
    items: list[tuple[int, Inbound]],
    results: list[Received | None],
) -> list[int]:
    by_network: dict[str, set[str]] = {}
    for _, item in items:
        by_network.setdefault(item.network, set()).add(item.external_id)
    existing: dict[tuple[str, str], int] = {}
    for net, ids in by_network.items():
        for pk, ext in Message.objects.filter(network=net, external_id__in=ids).values_list(
            "pk", "external_id"
        ):
            existing[(net, ext)] = pk
    parents: dict[tuple[str, str], str] = {}
    wanted_parents = {(it.network, it.reply_to) for _, it in items if it.reply_to}
    for net in {n for n, _ in wanted_parents}:
        refs = {r for n, r in wanted_parents if n == net}
        for ext, thread in Message.objects.filter(network=net, external_id__in=refs).values_list(
            "external_id", "thread_id"
        ):
            parents[(net, ext)] = thread
    addressed = {
        h: a
        for a in NetworkAccount.objects.filter(force_id=account.force_id)
        for h in [(a.kind, a.handle)]
    }
    received = now()
    new: list[tuple[int, Message]] = []
    seen: dict[tuple[str, str], int] = {}
    own = _own_ids(items)
    for i, item in items:
        key = (item.network, item.external_id)
        if key in existing or key in seen or key in own:
            continue
        seen[key] = i
        target = (
            addressed.get((item.network, item.account_handle), account)
            if item.account_handle
            else account
        )
        thread = (
            parents.get((item.network, item.reply_to))
            or parents.get(key)
            or item.thread_id
            or item.reply_to
            or item.external_id
        )
        parents[key] = thread
        new.append(
            (
                i,
                _message(
                    item,
                    account.kind,
                    target,
                    payloads[i].body,
                    payloads[i].sha256,
                    received,
                    thread,
                ),
            )
        )
    conversations = _conversations_for([m for _, m in new], received)
    for _, message in new:
        message.conversation = conversations[
            (message.network, message.account_id, message.thread_id)
        ]
    insert_returning(Message, [m for _, m in new])
    stored_ids: list[int] = []
    updates: list[InboundPayload] = []
    new_by_index = dict(new)
    for i, item in items:
        payload = payloads[i]
        key = (item.network, item.external_id)
        if key in own:
            payload.status, payload.message_id = InboundPayload.Status.OWN, None
        elif i in new_by_index:
            payload.status, payload.message_id = InboundPayload.Status.STORED, new_by_index[i].pk
            stored_ids.append(new_by_index[i].pk)
        else:
            payload.status = InboundPayload.Status.DUPLICATE
            payload.message_id = existing.get(key) or new_by_index[seen[key]].pk
        updates.append(payload)
        results[i] = Received(payload.pk, payload.status, payload.message_id)
    update_many(InboundPayload, updates, ["status", "message"])
    if stored_ids:
        record_system(
            "ingest",
            Category.COLLECTION,
            "messages.stored",
            object_type="inbox.message",
            object_id=f"{stored_ids[0]}..{stored_ids[-1]}",
            justification=f"{len(stored_ids)} new messages",
            payload=[(m.pk, m.raw_sha256) for _, m in new],
        )
    return stored_ids


def _own_ids(items: list[tuple[int, Inbound]]) -> set[tuple[str, str]]:
    ids = {it.external_id for _, it in items}
    return set(Post.objects.filter(external_id__in=ids).values_list("account__kind", "external_id"))


def _conversations_for(
    messages: list[Message], at: dt.datetime
) -> dict[tuple[str, int, str], Conversation]:
    keys = {(m.network, m.account_id, m.thread_id) for m in messages}
    found: dict[tuple[str, int, str], Conversation] = {}
    threads = {k[2] for k in keys}
    for conv in Conversation.objects.filter(thread_key__in=threads):
        found[(conv.network, conv.account_id, conv.thread_key)] = conv
    # In a fixed order: two workers taking in the same posts at once then wait for each
    # other's rows instead of each holding some the other needs (a deadlock on PostgreSQL).
    missing = [
        Conversation(network=n, account_id=a, thread_key=t, started_at=at, last_message_at=at)
        for (n, a, t) in sorted(keys)
        if (n, a, t) not in found
    ]
    made = insert_new(Conversation, missing, ("network", "account", "thread_key"))
    for conv in made:
        found[(conv.network, conv.account_id, conv.thread_key)] = conv
    lost = {c.thread_key for c in missing if c.pk is None}  # another process made them first
    if lost:
        for conv in Conversation.objects.filter(thread_key__in=lost):
            found[(conv.network, conv.account_id, conv.thread_key)] = conv
    new = {c.pk for c in made}
    older = sorted(pk for pk in (found[k].pk for k in keys) if pk not in new)
    if older:
        Conversation.objects.filter(pk__in=older).update(last_message_at=at)
    return found


def do_retry_payload(payload: InboundPayload) -> Received:
    """Read a dead letter again (after a connector fix): stored, duplicate, or failed again."""
    if payload.status != InboundPayload.Status.FAILED:
        return Received(payload.pk, payload.status, payload.message_id)
    return _ingest(payload.account, payload, None)


def do_read_stranded(payload: InboundPayload) -> Received:
    """Finish a delivery whose process stopped after storing it raw (the sweeper calls this
    once the grace period has passed): normalised and stored, or a dead letter."""
    if payload.status != InboundPayload.Status.RECEIVED:
        return Received(payload.pk, payload.status, payload.message_id)
    return _ingest(payload.account, payload, None)


# -- response targets ----------------------------------------------------------------------------

TARGET_SETTERS = frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR})


def check_set_targets(user: User, wanted: dict[int, int | None]) -> None:
    """The force's response target (minutes) per grade; None removes a grade's target."""
    if user.role not in TARGET_SETTERS or not is_active_staff(user):
        refuse(user, "inbox.responsetarget", "*", "only supervisors set response targets")
    with transaction.atomic():
        for grade, minutes in wanted.items():
            if minutes is None:
                ResponseTarget.objects.filter(force=user.force, grade=grade).delete()
            else:
                ResponseTarget.objects.update_or_create(
                    force=user.force, grade=grade, defaults={"minutes": minutes}
                )
        record(
            user,
            Category.ALTERATION,
            "targets.saved",
            object_type="inbox.responsetarget",
            object_id="*",
            justification=str(wanted),
        )
