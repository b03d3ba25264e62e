"""The replay connector: recorded posts delivered as live traffic (demo, load tests, evals)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from beatdesk.core.digest import sha256_hex
from beatdesk.networks.base import Inbound, Network, PayloadError, as_list, parse_time, read_json
from beatdesk.networks.registry import CONNECTORS


def _first(record: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = record.get(key)
        if value not in (None, ""):
            return value
    return None


class ReplayNetwork(Network):
    kind = "replay"
    label = "Replay (recorded traffic)"
    # Replay watches are fed by `beatdesk replay --watch`, whatever their term; they are
    # never searched.
    watch_kinds = frozenset({"hashtag", "keyword", "phrase", "place"})

    def normalise_as(self, body: str, network: str) -> Inbound:
        """A recorded post; one whose record names no network is taken as `network`'s."""
        return self._normalise(body, network)

    def normalise(self, body: str) -> Inbound:
        return self._normalise(body, self.kind)

    def _normalise(self, body: str, default_network: str) -> Inbound:
        record = read_json(body, "a recorded post")
        if not isinstance(record, dict):
            raise PayloadError("a recorded post must be a JSON object")
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            raise PayloadError("a recorded post needs a non-empty 'text'")
        network = str(record.get("network") or default_network).lower()
        if network not in CONNECTORS:
            raise PayloadError(f"unknown network {network!r}")
        # Without an id the content itself identifies the post, so a replay stays idempotent.
        external_id = str(_first(record, "id", "external_id", "id_str") or sha256_hex(body))
        author = _first(record, "author", "screen_name", "user", "author_handle") or "unknown"
        if isinstance(author, dict):
            author = author.get("screen_name") or author.get("username") or "unknown"
        created = _first(record, "created_at", "timestamp")
        reply_to = _first(record, "reply_to", "in_reply_to", "in_reply_to_status_id")
        return Inbound(
            network=network,
            external_id=external_id[:200],
            author_handle=str(author)[:200],
            author_name=str(record.get("author_name") or "")[:200],
            text=text,
            created_at=parse_time(created) if created is not None else dt.datetime.now(dt.UTC),
            reply_to=str(reply_to or "")[:200],
            language=str(_first(record, "language", "lang") or "")[:16],
            account_handle=str(record.get("account") or ""),
            attachments=[a for a in as_list(record.get("attachments")) if isinstance(a, dict)],
        )
