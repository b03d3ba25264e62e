"""The ingestion path every network uses, and the desk's writes on messages.

receive → store raw (committed first) → normalise → deduplicate on (network, external id)
→ thread into a conversation → hand on to background work (routing, and triage later).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from beatdesk.accounts.models import Team
from beatdesk.audit.actions import Category, record_system
from beatdesk.core.clock import now
from beatdesk.core.digest import sha256_hex
from beatdesk.inbox.models import Conversation, InboundPayload, Message
from beatdesk.networks.base import Inbound, PayloadError
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import connector

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class Received:
    payload_id: int
    status: str
    message_id: int | None = None
    error: str = ""


def _store_payload(account: NetworkAccount, body: str) -> InboundPayload:
    with transaction.atomic():
        payload = InboundPayload.objects.create(
            network=account.kind, account=account, body=body, sha256=sha256_hex(body)
        )
        record_system("ingest", Category.COLLECTION, "payload.received", payload, payload=body)
    return payload


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


def do_receive(
    account: NetworkAccount, body: str, *, created_at: dt.datetime | None = None
) -> Received:
    """Take one delivery from a network. Safe to call twice, or from two processes at once."""
    payload = _store_payload(account, body)
    try:
        item = connector(account.kind).normalise(body)
    except PayloadError as exc:
        with transaction.atomic():
            InboundPayload.objects.filter(pk=payload.pk).update(
                status=InboundPayload.Status.FAILED, error=str(exc)
            )
        return Received(payload.pk, InboundPayload.Status.FAILED, error=str(exc))

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
                    message = Message.objects.create(
                        network=item.network,
                        external_id=item.external_id,
                        via=account.kind,
                        account=addressed,
                        author_handle=item.author_handle,
                        author_name=item.author_name,
                        text=item.text,
                        language=item.language,
                        created_at=created_at or item.created_at,
                        received_at=received,
                        reply_to_external_id=item.reply_to,
                        thread_id=thread_id,
                        conversation=conversation,
                        attachments=item.attachments,
                        raw=body,
                        raw_sha256=payload.sha256,
                    )
            except IntegrityError:
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
        record_system("ingest", Category.COLLECTION, "message.stored", message, payload=body)
        message_id = message.pk
        transaction.on_commit(lambda: _hand_on(message_id))
    return Received(payload.pk, InboundPayload.Status.STORED, message_id)


def _hand_on(message_id: int) -> None:
    from beatdesk.inbox.tasks import process_message

    process_message.enqueue(message_id)


def do_route(message_id: int) -> Message | None:
    """Put a message in a team's queue and say why. Triage (a later step) refines this."""
    with transaction.atomic():
        message = (
            Message.objects.select_related("account__owning_team__area")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.routed_at is not None:
            return message
        team = message.account.owning_team
        if team is not None:
            reason = f"addressed to {message.account.handle}, an account of {team.name}"
        else:
            team = Team.objects.filter(
                force_id=message.account.force_id, kind=Team.Kind.DIGITAL_DESK
            ).first()
            reason = "addressed to a force account: the digital desk's queue"
        message.team = team
        message.area = team.area if team is not None else None
        message.routing_reason = reason
        message.routed_at = now()
        message.save(update_fields=["team", "area", "routing_reason", "routed_at"])
        record_system(
            "routing", Category.ALTERATION, "message.routed", message, justification=reason
        )
    return message
