"""Posting to Mastodon: statuses (POST /api/v1/statuses), images with alt text
(POST /api/v2/media) and threads.

Every post carries an Idempotency-Key header: Mastodon keeps the key for an hour and answers a
repeated request with the status it already made, so a retry after a timeout (when the first
attempt may well have gone through) never posts twice. Without a key from the caller the key
is derived from the account, the status replied to, the text and any images, so the same reply
sent twice within the hour is posted once. (Uploads carry no key: a retried upload makes a
second, unattached copy, which the instance removes on its own; the status is still posted once.)

Images must carry alt text (the force's accessibility rule): an image without a description
is refused before anything is sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from beatdesk.core.digest import sha256_hex
from beatdesk.networks.base import NetworkRefused, TransientError
from beatdesk.networks.length import Counting
from beatdesk.networks.mastodon.client import MastodonClient

MAX_CHARACTERS = 500
# As the instance counts: every link 23 characters, a remote mention only its local part.
COUNTING = Counting(limit=MAX_CHARACTERS, url_weight=23, local_mentions=True)
MAX_MEDIA = 4  # Mastodon's limit of attachments on one status
STATUSES_PATH = "/api/v1/statuses"
MEDIA_UPLOAD_PATH = "/api/v2/media"
MEDIA_PATH = "/api/v1/media"
MEDIA_POLLS = 5  # GET /api/v1/media/:id at most this often while a 202 upload is processed
POLL_SECONDS = 1.0
VISIBILITIES = ("public", "unlisted", "private", "direct")  # widest first

# One image to attach: (bytes, filename, content type, description / alt text).
Media = tuple[bytes, str, str, str]


class ThreadInterrupted(Exception):
    """A thread stopped part way: `posted` holds the ids already on the instance, in order, so
    the rest can be posted later as replies to the last of them (or the whole thread retried
    within the hour with the same idempotency key: the parts already posted are not repeated).
    The cause is the exception chained."""

    def __init__(self, message: str, posted: list[str]) -> None:
        super().__init__(message)
        self.posted = posted


def check_text(text: str, *, with_media: bool = False) -> None:
    """Refuse a status Mastodon would refuse: empty (unless it carries images), or over the
    500 characters it allows, counted as the instance counts them (COUNTING)."""
    if not with_media and (not text or not text.strip()):
        raise ValueError("a Mastodon status needs some text")
    length = COUNTING.count(text)
    if length > MAX_CHARACTERS:
        raise ValueError(
            f"a Mastodon status can be at most {MAX_CHARACTERS} characters; "
            f"this one has {length} ({length - MAX_CHARACTERS} too many)"
        )


def check_description(description: str, filename: str = "") -> None:
    """Alt text is required: refuse an image without a description."""
    if not description or not description.strip():
        named = f" ({filename})" if filename else ""
        raise ValueError(
            f"an image{named} needs alt text (a description) before it can be posted: "
            "the force's accessibility rule is that every image is described"
        )


def check_media(media: Sequence[Media]) -> None:
    """Refuse, before anything is sent, images Mastodon or the force would refuse."""
    if len(media) > MAX_MEDIA:
        raise ValueError(
            f"a Mastodon status can carry at most {MAX_MEDIA} images; this one has {len(media)}"
        )
    for number, (data, filename, content_type, description) in enumerate(media, start=1):
        if not data:
            raise ValueError(f"image {number} ({filename or 'unnamed'}) is empty")
        if not filename or not content_type:
            raise ValueError(f"image {number} needs a filename and a content type")
        check_description(description, filename)


def check_visibility(visibility: str) -> None:
    if visibility not in VISIBILITIES:
        raise ValueError(
            f"unknown Mastodon visibility {visibility!r}: one of {', '.join(VISIBILITIES)}"
        )


def narrowest(*visibilities: str) -> str:
    """The narrowest of the visibilities given (direct < private < unlisted < public)."""
    return max(visibilities, key=VISIBILITIES.index)


def default_idempotency_key(handle: str, text: str, reply_to: str) -> str:
    return "beatdesk-" + sha256_hex(f"{handle}\n{reply_to}\n{text}")[:48]


def media_fingerprint(media: Sequence[Media]) -> str:
    """What identifies a post's images for its default idempotency key (not the media ids,
    which a retried upload changes)."""
    return "\n".join(
        f"{sha256_hex(data.hex())}:{filename}:{content_type}:{description}"
        for data, filename, content_type, description in media
    )


def _media_id(data: Any) -> str:
    media_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(media_id, str | int) or isinstance(media_id, bool) or media_id == "":
        raise TransientError("the instance's answer to the upload carried no media id")
    return str(media_id)


def upload_media(
    client: MastodonClient,
    data: bytes,
    filename: str,
    content_type: str,
    description: str,
    *,
    sleep: Callable[[float], None] | None = None,
) -> str:
    """Upload one image with its alt text (POST /api/v2/media, multipart/form-data); its
    media id, for a status's media_ids.

    The instance answers 200 when the image is processed, 202 while it still is (its `url`
    null); after a 202 GET /api/v1/media/:id is asked (at most MEDIA_POLLS times) until the
    url is set, since a status cannot carry an attachment still being processed."""
    check_description(description, filename)
    if not data:
        raise ValueError(f"the image {filename or '(unnamed)'} is empty")
    reply = client.request(
        "POST",
        MEDIA_UPLOAD_PATH,
        form={"description": description},
        files={"file": (filename, data, content_type)},
    )
    media_id = _media_id(reply.data)
    attachment = reply.data
    wait = sleep or time.sleep
    for _ in range(MEDIA_POLLS):
        if attachment.get("url"):
            return media_id
        wait(POLL_SECONDS)
        attachment = client.request("GET", f"{MEDIA_PATH}/{media_id}").data
        if not isinstance(attachment, dict):
            raise TransientError("the instance's answer about the upload was not an attachment")
    if attachment.get("url"):
        return media_id
    raise TransientError(
        f"the image {filename} (media {media_id}) was still being processed after "
        f"{MEDIA_POLLS} checks; retry later"
    )


def post_status(
    client: MastodonClient,
    text: str,
    *,
    reply_to: str = "",
    idempotency_key: str,
    visibility: str = "public",
    media_ids: Sequence[str] = (),
) -> str:
    """Post `text` (as a reply to status `reply_to` if given, with the uploaded images
    `media_ids`); the new status's id."""
    check_text(text, with_media=bool(media_ids))
    body: dict[str, Any] = {"status": text, "visibility": visibility}
    if reply_to:
        body["in_reply_to_id"] = reply_to
    if media_ids:
        body["media_ids"] = list(media_ids)  # media_ids[] as a JSON body carries it
    reply = client.request(
        "POST", STATUSES_PATH, json_body=body, headers={"Idempotency-Key": idempotency_key}
    )
    status_id = reply.data.get("id") if isinstance(reply.data, dict) else None
    if not isinstance(status_id, str | int) or isinstance(status_id, bool) or status_id == "":
        # Posted or not, we cannot tell: the same Idempotency-Key makes the retry safe.
        raise TransientError("the instance's answer to the new status carried no status id")
    return str(status_id)


def check_thread(parts: Sequence[str]) -> None:
    """Every part checked before anything is posted, so one bad part posts nothing."""
    if not parts:
        raise ValueError("a thread needs at least one post")
    for number, part in enumerate(parts, start=1):
        try:
            check_text(part)
        except ValueError as exc:
            raise ValueError(f"part {number} of {len(parts)} of the thread: {exc}") from exc


def part_key(base: str, number: int, total: int) -> str:
    """The Idempotency-Key of a thread's part `number` (from 1) of `total`."""
    return f"{base}-{number}of{total}"


def post_thread(
    client: MastodonClient,
    parts: Sequence[str],
    *,
    idempotency_key: str,
    reply_to: str = "",
    visibility: str = "public",
) -> list[str]:
    """Post `parts` as a thread, each a reply to the one before (the first to `reply_to` if
    given); their ids. Each part has its own Idempotency-Key from `idempotency_key` and its
    position. If a part after the first fails, ThreadInterrupted says which were posted."""
    check_thread(parts)
    posted: list[str] = []
    previous = reply_to
    for number, part in enumerate(parts, start=1):
        try:
            previous = post_status(
                client,
                part,
                reply_to=previous,
                idempotency_key=part_key(idempotency_key, number, len(parts)),
                visibility=visibility,
            )
        except (TransientError, NetworkRefused) as exc:
            if not posted:
                raise  # nothing is posted yet: the caller can simply try the whole thread again
            raise ThreadInterrupted(
                f"thread stopped at part {number} of {len(parts)} "
                f"({len(posted)} posted, the last {posted[-1]}): {exc}",
                posted,
            ) from exc
        posted.append(previous)
    return posted


# A reply is never seen more widely than what it answers: a direct message gets a direct
# reply, a followers-only post a followers-only one.
_NARROWEST = {"direct": "direct", "private": "private", "unlisted": "unlisted"}


def reply_visibility(client: MastodonClient, reply_to: str) -> str:
    parent = client.request("GET", f"{STATUSES_PATH}/{reply_to}")
    visibility = parent.data.get("visibility") if isinstance(parent.data, dict) else None
    return _NARROWEST.get(str(visibility), "public")
