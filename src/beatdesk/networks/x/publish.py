"""Posting to X: POST /2/tweets with the account's OAuth 2.0 user-context token.

X counts a post's length by weight (twitter-text v3): most Latin, Greek, Cyrillic and
general punctuation count 1, everything else (CJK, most emoji) 2, and every link 23 however
long, since X wraps it in t.co. The limit is 280. This is an approximation of twitter-text
that errs on the side of the links and scripts a UK force's posts use.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from beatdesk.networks.base import NetworkRefused, TransientError
from beatdesk.networks.x.client import PUBLISH_TIMEOUT, api_base, request

MAX_WEIGHTED_LENGTH = 280
URL_WEIGHT = 23
# twitter-text v3: code point ranges that weigh 1; everything else weighs 2.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_TLDS = "com|org|net|uk|gov|edu|int|eu|ie|io|co|info|me|ly|biz|app|dev|news|online|scot|wales|cymru"
_URL = re.compile(
    rf"""(?<![@\w.\-])
    (?:
        https?://[^\s<>"]+
      | (?:www\.)?(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:{_TLDS})\b(?:[/?#][^\s<>"]*)?
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_TRAILING = ".,;:!?'\")]}"
_ZERO_WIDTH = {0xFE0E, 0xFE0F, 0x20E3} | set(range(0x1F3FB, 0x1F400))  # selectors, skin tones
_ZWJ = 0x200D


class ThreadInterrupted(Exception):
    """A thread stopped part way: `posted` holds the ids already on X, in order, so the rest
    can be posted later as replies to the last of them. The cause is the exception chained."""

    def __init__(self, message: str, posted: list[str]) -> None:
        super().__init__(message)
        self.posted = posted


def _char_weight(code: int) -> int:
    return 1 if any(low <= code <= high for low, high in _LIGHT_RANGES) else 2


def _text_weight(text: str) -> int:
    weight = 0
    joined = False  # the previous code point was a zero-width joiner: this one is in its emoji
    regional = False  # an unpaired regional indicator (half a flag) came just before
    for char in text:
        code = ord(char)
        if code == _ZWJ:
            joined = True
            continue
        if joined or code in _ZERO_WIDTH:
            joined = False
            continue
        if 0x1F1E6 <= code <= 0x1F1FF:  # a flag is two regional indicators, counted as 2
            if regional:
                regional = False
                continue
            regional = True
        else:
            regional = False
        weight += _char_weight(code)
    return weight


def urls(text: str) -> list[str]:
    """The links X would find in the text (an approximation of twitter-text's extractor)."""
    return [m.group().rstrip(_TRAILING) for m in _URL.finditer(text)]


def weighted_length(text: str) -> int:
    """The length of `text` as X counts it against the 280 limit."""
    text = unicodedata.normalize("NFC", text)
    weight = 0
    position = 0
    for match in _URL.finditer(text):
        link = match.group().rstrip(_TRAILING)
        weight += _text_weight(text[position : match.start()]) + URL_WEIGHT
        position = match.start() + len(link)
    return weight + _text_weight(text[position:])


def check_length(text: str) -> None:
    """ValueError, saying why, when X would refuse the post's length."""
    if not text.strip():
        raise ValueError("an X post needs some text")
    length = weighted_length(text)
    if length > MAX_WEIGHTED_LENGTH:
        raise ValueError(
            f"too long for X: {length} of {MAX_WEIGHTED_LENGTH} characters as X counts them "
            f"(each link counts {URL_WEIGHT}; emoji and most non-Latin characters count 2)"
        )


def _token(credentials: dict[str, Any]) -> str:
    token = credentials.get("user_access_token")
    if not token:
        raise NetworkRefused(
            "this X account has no user_access_token (OAuth 2.0 user context with tweet.write)"
        )
    return str(token)


def post(credentials: dict[str, Any], text: str, reply_to: str = "") -> str:
    """Publish one post (a reply when `reply_to` is a post id); return the new post's id."""
    check_length(text)
    payload: dict[str, Any] = {"text": text}
    if reply_to:
        payload["reply"] = {"in_reply_to_tweet_id": str(reply_to)}
    base = api_base(credentials)
    answer = request(
        "POST",
        f"{base}/2/tweets",
        token=_token(credentials),
        what="posting",
        body=payload,
        timeout=PUBLISH_TIMEOUT,
    )
    data = answer.data.get("data")
    post_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(post_id, str | int) or not str(post_id):
        raise TransientError("X accepted the post but did not say its id")
    return str(post_id)


def post_thread(credentials: dict[str, Any], parts: Sequence[str], reply_to: str = "") -> list[str]:
    """Publish parts as a thread, each replying to the one before; return their ids.

    Every part is checked before anything is posted, so a too-long part posts nothing."""
    if not parts:
        raise ValueError("a thread needs at least one post")
    for number, part in enumerate(parts, start=1):
        try:
            check_length(part)
        except ValueError as exc:
            raise ValueError(f"part {number} of the thread: {exc}") from exc
    posted: list[str] = []
    previous = reply_to
    for number, part in enumerate(parts, start=1):
        try:
            previous = post(credentials, part, previous)
        except (TransientError, NetworkRefused) as exc:
            if not posted:
                raise  # nothing is on X yet: the caller can simply try the whole thread again
            raise ThreadInterrupted(
                f"thread stopped at part {number} of {len(parts)}: {exc}", posted
            ) from exc
        posted.append(previous)
    return posted


RECENT = 20  # how many of the account's own posts are searched for a lost send


def delete_post(credentials: dict[str, Any], post_id: str) -> None:
    """DELETE /2/tweets/:id with the user-context token."""
    base = api_base(credentials)
    request(
        "DELETE",
        f"{base}/2/tweets/{post_id}",
        token=str(credentials.get("user_access_token") or ""),
        what="deleting a post",
        timeout=PUBLISH_TIMEOUT,
    )


def find_recent(credentials: dict[str, Any], text: str) -> str | None:
    """The id of the account's recent post with this text (GET /2/users/:id/tweets)."""
    base = api_base(credentials)
    token = credentials.get("user_access_token") or credentials.get("bearer_token")
    user_id = str(credentials.get("user_id") or "")
    if not token or not user_id:
        raise NetworkRefused("the account needs a token and its numeric user_id")
    answer = request(
        "GET",
        f"{base}/2/users/{user_id}/tweets",
        token=str(token),
        what="reading the account's recent posts",
        params={"max_results": str(RECENT)},
    )
    wanted = " ".join(text.split())
    for item in answer.data.get("data") or []:
        if isinstance(item, dict) and " ".join(str(item.get("text", "")).split()) == wanted:
            return str(item.get("id") or "") or None
    return None
