"""X's Account Activity API webhooks: the CRC check, signatures, and one body per event.

CRC: X sends GET ?crc_token=…; the answer is {"response_token": "sha256=" + base64 of
HMAC-SHA256 keyed with the app's consumer secret over the token}. Deliveries are POSTs
signed the same way over the raw body, in the x-twitter-webhooks-signature header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from beatdesk.networks.base import HookAnswer, PayloadError, Webhook, read_json

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
# The event kinds that carry a message for the desk; the rest (likes, follows, typing,
# read receipts, deletes) are not messages and are not split out.
MESSAGE_EVENTS = ("tweet_create_events", "direct_message_events")


def _secret(consumer_secret: str | bytes) -> bytes:
    return consumer_secret.encode() if isinstance(consumer_secret, str) else consumer_secret


def _sign(message: bytes, consumer_secret: str | bytes) -> str:
    digest = hmac.new(_secret(consumer_secret), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode("ascii")


def crc_response(crc_token: str, consumer_secret: str | bytes) -> dict[str, str]:
    """The JSON to answer X's challenge-response check with."""
    if not crc_token:
        raise ValueError("no crc_token to answer")
    if not consumer_secret:
        raise ValueError("no consumer secret to answer the CRC check with")
    return {"response_token": _sign(crc_token.encode(), consumer_secret)}


def verify_signature(body: bytes, header_value: str | None, consumer_secret: str | bytes) -> bool:
    """Whether the x-twitter-webhooks-signature header signs exactly these body bytes."""
    if not header_value or not consumer_secret:
        return False
    expected = _sign(body, consumer_secret).encode("ascii")
    return hmac.compare_digest(expected, header_value.strip().encode("ascii", "replace"))


def split_events(body: str | bytes) -> list[str]:
    """One JSON body per tweet_create_event / direct_message_event, each keeping the
    delivery's other keys (for_user_id, the users map, …) so it can be read alone."""
    delivery: Any = read_json(body, "an X webhook delivery")
    if not isinstance(delivery, dict):
        raise PayloadError("an X webhook delivery must be a JSON object")
    shared = {k: v for k, v in delivery.items() if not k.endswith("_events")}
    bodies: list[str] = []
    for kind in MESSAGE_EVENTS:
        events = delivery.get(kind) or []
        if not isinstance(events, list):
            raise PayloadError(f"{kind} must be a list")
        for event in events:
            bodies.append(json.dumps({**shared, kind: [event]}, ensure_ascii=False))
    return bodies


class XWebhook(Webhook):
    """X's Account Activity webhook for one account (its consumer secret signs)."""

    route: ClassVar[str] = "x"

    def unavailable(self, credentials: Mapping[str, Any]) -> str:
        return "" if credentials.get("consumer_secret") else "this account has no consumer secret"

    def handshake(self, credentials: Mapping[str, Any], query: Mapping[str, str]) -> HookAnswer:
        token = query.get("crc_token", "")
        if not token:
            return HookAnswer(400, json.dumps({"error": "crc_token is required"}))
        answer = crc_response(token, str(credentials["consumer_secret"]))
        return HookAnswer(200, json.dumps(answer))

    def verify(
        self, credentials: Mapping[str, Any], body: bytes, headers: Mapping[str, str]
    ) -> str:
        signature = headers.get(SIGNATURE_HEADER, "")
        if verify_signature(body, signature, str(credentials["consumer_secret"])):
            return ""
        return f"bad or missing {SIGNATURE_HEADER}"

    def split(self, body: bytes) -> list[str]:
        return split_events(body)
