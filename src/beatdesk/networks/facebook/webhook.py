"""Meta's Webhooks (Pages, Messenger, Instagram): the subscription handshake, signatures,
and one body per event.

Handshake: Meta sends GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…; the
answer is the challenge, as plain text, when the verify token is the one configured.
Deliveries are POSTs signed in X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256 of the raw
body keyed with the app secret. One delivery batches entries, each with changes[] (Page
feed, Instagram comments) or messaging[] (Messenger, Instagram direct messages).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from beatdesk.networks.base import HookAnswer, PayloadError, Webhook, as_list, read_json

SIGNATURE_HEADER = "X-Hub-Signature-256"


def _param(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return value if isinstance(value, str) else ""


def verify_subscription(params: Mapping[str, Any], verify_token: str) -> str | None:
    """The hub.challenge to answer with, or None when this is not our subscription."""
    if not verify_token or _param(params, "hub.mode") != "subscribe":
        return None
    given = _param(params, "hub.verify_token")
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    challenge = _param(params, "hub.challenge")
    return challenge or None


def verify_signature(body: bytes, header_value: str | None, app_secret: str | bytes) -> bool:
    """Whether X-Hub-Signature-256 signs exactly these body bytes with the app secret."""
    if not header_value or not app_secret:
        return False
    secret = app_secret.encode() if isinstance(app_secret, str) else app_secret
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    given = header_value.strip().lower().encode("ascii", "replace")
    return hmac.compare_digest(expected.encode("ascii"), given)


def _id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value).strip()


def _from_us(author: Any, own_id: str) -> bool:
    return isinstance(author, dict) and bool(own_id) and _id(author.get("id")) == own_id


def split_events(body: str | bytes) -> list[str]:
    """One JSON body per new comment (Page feed "comment"/"add", Instagram "comments") and
    per received message, each keeping the object, the Page or Instagram account id (as
    "for_id") and the entry's time so it can be read alone. Everything else (likes,
    edits, reads, deliveries) and anything the account itself wrote (its own comments,
    Messenger echoes) is left out: the desk never takes back its own posts."""
    delivery: Any = read_json(body, "a Meta webhook delivery")
    if not isinstance(delivery, dict):
        raise PayloadError("a Meta webhook delivery must be a JSON object")
    entries = delivery.get("entry") or []
    if not isinstance(entries, list):
        raise PayloadError("a Meta webhook delivery's entry must be a list")
    kind = str(delivery.get("object") or "page")
    bodies: list[str] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise PayloadError("a Meta webhook entry must be an object")
        own_id = _id(entry.get("id"))
        shared = {"object": kind, "for_id": own_id, "time": entry.get("time")}
        for change in as_list(entry.get("changes")):
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                continue
            field, value = change.get("field"), change["value"]
            if field == "feed":
                if value.get("item") != "comment" or value.get("verb") != "add":
                    continue
            elif field != "comments":
                continue
            if _from_us(value.get("from"), own_id):
                continue
            bodies.append(
                json.dumps({**shared, "field": field, "value": value}, ensure_ascii=False)
            )
        for event in as_list(entry.get("messaging")):
            if not isinstance(event, dict) or not isinstance(event.get("message"), dict):
                continue
            message = event["message"]
            if message.get("is_echo") or message.get("is_deleted"):
                continue
            if _from_us(event.get("sender"), own_id):
                continue
            bodies.append(json.dumps({**shared, "messaging": event}, ensure_ascii=False))
    return bodies


class MetaWebhook(Webhook):
    """Meta's Webhooks for one Page or Instagram account (its app secret signs)."""

    route: ClassVar[str] = "meta"

    def handshake(self, credentials: Mapping[str, Any], query: Mapping[str, str]) -> HookAnswer:
        challenge = verify_subscription(query, str(credentials.get("verify_token") or ""))
        if challenge is None:
            return HookAnswer(403, "verify token does not match", "text/plain")
        return HookAnswer(200, challenge, "text/plain")

    def verify(
        self, credentials: Mapping[str, Any], body: bytes, headers: Mapping[str, str]
    ) -> str:
        signature = headers.get(SIGNATURE_HEADER, "")
        if verify_signature(body, signature, str(credentials.get("app_secret") or "")):
            return ""
        return f"bad or missing {SIGNATURE_HEADER}"

    def split(self, body: bytes) -> list[str]:
        return split_events(body)
