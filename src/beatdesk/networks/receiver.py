"""The hand-over of what the networks bring in: every fetched, pushed, streamed, submitted
or replayed delivery goes to the one ingestion path through `receive`/`receive_many`.

The ingestion path is the inbox's (store raw first, normalise, deduplicate, thread), a
layer above the networks, so the inbox registers it here at start-up (InboxConfig.ready)
rather than the networks importing the inbox.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from beatdesk.networks.models import NetworkAccount


@dataclass(frozen=True)
class Received:
    """What became of one delivery: its stored payload and its status (the inbox's
    InboundPayload.Status: stored, duplicate, own or failed, with the reason in `error`)."""

    payload_id: int
    status: str
    message_id: int | None = None
    error: str = ""

    @property
    def failed(self) -> bool:
        """Kept as a dead letter: it could not be read."""
        return self.status == "failed"


class ReceiveOne(Protocol):
    def __call__(
        self, account: NetworkAccount, body: str | bytes, *, created_at: dt.datetime | None = None
    ) -> Received: ...


class ReceiveMany(Protocol):
    def __call__(
        self, account: NetworkAccount, bodies: Sequence[str | bytes]
    ) -> list[Received]: ...


@dataclass(frozen=True)
class _Ingestion:
    one: ReceiveOne
    many: ReceiveMany


_registered: list[_Ingestion] = []


def register(one: ReceiveOne, many: ReceiveMany) -> None:
    """Make `one` and `many` the ingestion path (the inbox calls this once, at start-up)."""
    _registered[:] = [_Ingestion(one, many)]


def _ingestion() -> _Ingestion:
    if not _registered:
        raise ImproperlyConfigured(
            "nothing takes inbound deliveries: beatdesk.inbox must be in INSTALLED_APPS"
        )
    return _registered[0]


def receive(
    account: NetworkAccount, body: str | bytes, *, created_at: dt.datetime | None = None
) -> Received:
    """Hand one delivery (its text, or its bytes as they came) to the ingestion path."""
    return _ingestion().one(account, body, created_at=created_at)


def receive_many(account: NetworkAccount, bodies: Sequence[str | bytes]) -> list[Received]:
    """Hand a batch of deliveries to the ingestion path, in a few queries."""
    return _ingestion().many(account, bodies) if bodies else []
