"""Posting a status (a reply, usually) to Mastodon: POST /api/v1/statuses.

Every post carries an Idempotency-Key header: Mastodon keeps the key for an hour and answers a
repeated request with the status it already made, so a retry after a timeout (when the first
attempt may well have gone through) never posts twice. Without a key from the caller the key
is derived from the account, the status replied to and the text, so the same reply sent twice
within the hour is posted once.
"""

from __future__ import annotations

from beatdesk.core.digest import sha256_hex
from beatdesk.networks.base import TransientError
from beatdesk.networks.mastodon.client import MastodonClient

MAX_CHARACTERS = 500
STATUSES_PATH = "/api/v1/statuses"


def check_text(text: str) -> None:
    """Refuse a status Mastodon would refuse: empty, or over the 500 characters it allows."""
    if not text or not text.strip():
        raise ValueError("a Mastodon status needs some text")
    if len(text) > MAX_CHARACTERS:
        raise ValueError(
            f"a Mastodon status can be at most {MAX_CHARACTERS} characters; "
            f"this one has {len(text)} ({len(text) - MAX_CHARACTERS} too many)"
        )


def default_idempotency_key(handle: str, text: str, reply_to: str) -> str:
    return "beatdesk-" + sha256_hex(f"{handle}\n{reply_to}\n{text}")[:48]


def post_status(
    client: MastodonClient,
    text: str,
    *,
    reply_to: str = "",
    idempotency_key: str,
    visibility: str = "public",
) -> str:
    """Post `text` (as a reply to status `reply_to` if given); the new status's id."""
    check_text(text)
    body: dict[str, str] = {"status": text, "visibility": visibility}
    if reply_to:
        body["in_reply_to_id"] = reply_to
    reply = client.request(
        "POST", STATUSES_PATH, json_body=body, headers={"Idempotency-Key": idempotency_key}
    )
    status_id = reply.data.get("id") if isinstance(reply.data, dict) else None
    if not isinstance(status_id, str | int) or isinstance(status_id, bool) or status_id == "":
        # Posted or not, we cannot tell: the same Idempotency-Key makes the retry safe.
        raise TransientError("the instance's answer to the new status carried no status id")
    return str(status_id)


# A reply is never seen more widely than what it answers: a direct message gets a direct
# reply, a followers-only post a followers-only one.
_NARROWEST = {"direct": "direct", "private": "private", "unlisted": "unlisted"}


def reply_visibility(client: MastodonClient, reply_to: str) -> str:
    parent = client.request("GET", f"{STATUSES_PATH}/{reply_to}")
    visibility = parent.data.get("visibility") if isinstance(parent.data, dict) else None
    return _NARROWEST.get(str(visibility), "public")
