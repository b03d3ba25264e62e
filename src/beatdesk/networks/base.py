"""The contract every network connector fulfils.

A connector turns one raw delivery (the bytes a network sent, kept verbatim) into a
normalised inbound message, and — where the network allows it — fetches new deliveries
since a cursor, verifies webhooks and publishes. Everything after normalising (storing,
deduplicating, triage, routing) is the same for every network: see inbox.actions.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from beatdesk.networks.models import NetworkAccount


class PayloadError(ValueError):
    """A delivery that cannot be read; it is kept verbatim as a dead letter."""


class NotSupported(Exception):
    """The network (or this connector) does not offer the operation asked for."""


class TransientError(Exception):
    """The network failed in a way worth retrying (5xx, timeout, connection refused).

    `retry_after` is seconds to wait when the network said so (a rate limit's reset)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(TransientError):
    """The network said 429: wait until its reset time before the next call."""


class NetworkRefused(Exception):
    """The network refused the request for good (bad credentials, forbidden, gone)."""


@dataclass(frozen=True)
class Budget:
    """What the network said about its rate limit on the last call."""

    remaining: int | None = None
    limit: int | None = None
    resets_at: float | None = None  # unix time


@dataclass(frozen=True)
class Inbound:
    """One message, normalised. `network` is the network it belongs to, which for recorded
    traffic (the replay connector) may differ from the connector that delivered it."""

    network: str
    external_id: str
    author_handle: str
    text: str
    created_at: dt.datetime
    author_name: str = ""
    reply_to: str = ""
    thread_id: str = ""
    language: str = ""
    account_handle: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class FetchResult:
    """New deliveries, oldest first, each the network's JSON for one item, verbatim; and
    the cursor to resume from once they are stored."""

    bodies: list[str]
    cursor: str
    budget: Budget = Budget()


class Network:
    kind: ClassVar[str]
    can_fetch: ClassVar[bool] = False
    can_publish: ClassVar[bool] = False

    def normalise(self, body: str) -> Inbound:
        raise NotImplementedError

    def fetch(self, account: NetworkAccount, cursor: str) -> FetchResult:
        raise NotSupported(f"{self.kind} does not fetch; it delivers")

    def publish(
        self, account: NetworkAccount, text: str, *, reply_to: str = "", idempotency_key: str = ""
    ) -> str:
        raise NotSupported(f"{self.kind} cannot publish")


def as_list(value: Any) -> list[Any]:
    """A field that should be a list: itself when it is one, else empty (never its keys or
    characters)."""
    return value if isinstance(value, list) else []


def read_json(body: str | bytes, what: str) -> Any:
    """The JSON of a delivery; PayloadError saying why when it is not UTF-8, not JSON,
    nested deeper than a parser can follow, or holds a number too long to read."""
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"{what} is not JSON: {exc.msg} at column {exc.colno}") from exc
    except UnicodeDecodeError as exc:
        raise PayloadError(f"{what} is not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except RecursionError as exc:
        raise PayloadError(f"{what} is JSON nested too deeply to read") from exc
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise PayloadError(f"{what} is not readable JSON: {exc}") from exc


def parse_time(value: Any) -> dt.datetime:
    """ISO 8601 (with Z or offset) or Twitter's 'Wed Jan 07 11:06:08 +0000 2015'; UTC out."""
    try:
        return _parse_time(value)
    except PayloadError:
        raise
    except (OverflowError, OSError, ValueError, TypeError, IndexError) as exc:
        # A timestamp or date beyond what a datetime holds (year 1 to 9999, UTC).
        raise PayloadError(f"time out of range {value!r}"[:200]) from exc


def _parse_time(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, int | float):
        parsed = dt.datetime.fromtimestamp(value, tz=dt.UTC)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                parsed = dt.datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")
            except ValueError:
                try:
                    parsed = parsedate_to_datetime(text)
                except (TypeError, ValueError) as exc:
                    raise PayloadError(f"unreadable time {text[:100]!r}") from exc
    else:
        raise PayloadError(f"unreadable time {value!r}"[:200])
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)
