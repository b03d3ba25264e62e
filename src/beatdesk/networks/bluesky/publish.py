"""Writing a Bluesky post: length limits, rich-text facets and reply references.

Limits (app.bsky.feed.post lexicon): `text` has maxGraphemes 300 and maxLength 3000
(UTF-8 bytes). Both are enforced before anything is sent, with a ValueError that says
which one was passed.

Graphemes are counted approximately, without the `regex` module (not installed): every
code point counts as one, except combining marks (Unicode categories Mn, Me, Mc),
variation selectors, emoji skin-tone modifiers and tag characters, which join the
character before them; a zero-width joiner glues the next code point onto the cluster
(so a ZWJ emoji family counts as one), and regional-indicator flags count one per pair.
That matches the extended grapheme clusters of the text a police desk writes; exotic
scripts (Hangul jamo sequences, Indic conjuncts) may count a little high, which only
ever refuses early, never lets an over-long post reach the network.

Facets mark byte ranges in the UTF-8 encoding of the text (byteStart inclusive, byteEnd
exclusive), as docs.bsky.app "Links, mentions, and rich text" describes:
links (app.bsky.richtext.facet#link), hashtags (#tag, the tag without its '#') and
mentions (#mention with the DID, only when the handle resolves; otherwise plain text).

Images (app.bsky.embed.images): at most MAX_IMAGES per post, each an image/* blob of at most
MAX_IMAGE_BYTES (the lexicon's maxSize), each with alt text — required by the lexicon and by
the force's accessibility rule, so empty alt is refused. All checked before any request.
Each image is uploaded with com.atproto.repo.uploadBlob; the post's embed carries the blob
the PDS answered with, and an aspectRatio when the image's size can be read from its header
(PNG, GIF, JPEG).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import struct
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from beatdesk.core.clock import now
from beatdesk.networks.base import PostOptions

MAX_GRAPHEMES = 300
MAX_BYTES = 3000
MAX_TAG_GRAPHEMES = 64
POST_TYPE = "app.bsky.feed.post"
LINK = "app.bsky.richtext.facet#link"
TAG = "app.bsky.richtext.facet#tag"
MENTION = "app.bsky.richtext.facet#mention"
IMAGES_TYPE = "app.bsky.embed.images"
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 1_000_000

# (data, MIME type, alt text), as BlueskyNetwork.publish takes them.
Image = tuple[bytes, str, str]


class ThreadInterrupted(Exception):
    """A thread stopped part way: `posted` holds the at:// uris already on Bluesky, in
    order, so the rest can be posted later as replies to the last of them. The cause is
    the exception chained."""

    def __init__(self, message: str, posted: list[str]) -> None:
        super().__init__(message)
        self.posted = posted


_ZWJ = "\u200d"
_TRAILING = ".,;:!?\"'’”)]}>"
# A link: http(s) URL starting at the beginning, after whitespace or an opening bracket.
_LINK_RE = re.compile(r"(?:^|(?<=[\s(\[<\"'“‘]))(https?://[^\s<>\"]+)", re.IGNORECASE)
# A hashtag: '#' (or the full-width '＃') at the start or after whitespace.
_TAG_RE = re.compile(r"(?:^|(?<=\s))[#＃]([^\s#＃\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2]+)")
# A mention: @handle.with.dots at the start or after a non-word character.
_MENTION_RE = re.compile(
    r"(?:^|(?<=[^\w@.]))@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)"
)


def _extends(char: str) -> bool:
    """Whether the code point belongs to the cluster before it."""
    code = ord(char)
    return (
        unicodedata.category(char) in {"Mn", "Me", "Mc"}
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
    )


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def count_graphemes(text: str) -> int:
    """Approximate count of user-perceived characters (see the module docstring)."""
    count = 0
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        index += 1
        if index < length and (
            (char == "\r" and text[index] == "\n")  # CR LF is one
            or (_regional(char) and _regional(text[index]))  # a flag is a pair
        ):
            index += 1
        while index < length:
            nxt = text[index]
            if _extends(nxt):
                index += 1
            elif nxt == _ZWJ:
                index += 2 if index + 1 < length else 1
            else:
                break
        count += 1
    return count


def check_length(text: str, *, allow_empty: bool = False) -> None:
    """ValueError, saying which limit, when the lexicon would refuse the text.

    Empty text is refused unless `allow_empty` (a post that carries images)."""
    if not text.strip() and not allow_empty:
        raise ValueError("a Bluesky post needs some text")
    graphemes = count_graphemes(text)
    if graphemes > MAX_GRAPHEMES:
        raise ValueError(
            f"a Bluesky post is at most {MAX_GRAPHEMES} characters; this one has {graphemes} "
            f"({graphemes - MAX_GRAPHEMES} too many)"
        )
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        raise ValueError(f"a Bluesky post is at most {MAX_BYTES} bytes; this one has {size}")


def check_images(images: Sequence[Image]) -> None:
    """ValueError, saying which image and why, unless every image can be posted."""
    if len(images) > MAX_IMAGES:
        raise ValueError(
            f"a Bluesky post carries at most {MAX_IMAGES} images; this one has {len(images)}"
        )
    for number, image in enumerate(images, start=1):
        if not isinstance(image, tuple) or len(image) != 3:
            raise ValueError(f"image {number}: expected (data, mime type, alt text)")
        data, mime_type, alt = image
        if not isinstance(data, bytes | bytearray) or not data:
            raise ValueError(f"image {number} has no data")
        if len(data) > MAX_IMAGE_BYTES:
            raise ValueError(
                f"image {number} is {len(data):,} bytes; a Bluesky image is at most "
                f"{MAX_IMAGE_BYTES:,} bytes"
            )
        if not isinstance(mime_type, str) or not re.fullmatch(r"image/[\w.+-]+", mime_type):
            raise ValueError(f"image {number}: {mime_type!r} is not an image MIME type")
        if not isinstance(alt, str) or not alt.strip():
            raise ValueError(
                f"image {number} has no alt text; every image needs a description "
                "for people using screen readers (the force's accessibility rule)"
            )


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from a PNG, GIF or JPEG header; None when it cannot be read."""
    try:
        if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
        elif data[:6] in (b"GIF87a", b"GIF89a"):
            width, height = struct.unpack("<HH", data[6:10])
        elif data[:2] == b"\xff\xd8":
            width = height = 0
            index = 2
            while index + 9 <= len(data):
                if data[index] != 0xFF:
                    return None
                marker = data[index + 1]
                if marker == 0xFF:  # fill byte
                    index += 1
                    continue
                if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
                    index += 2
                    continue
                (length,) = struct.unpack(">H", data[index + 2 : index + 4])
                if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                    height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                    break
                index += 2 + length
        else:
            return None
    except struct.error:
        return None
    return (width, height) if width > 0 and height > 0 else None


def images_embed(uploaded: Sequence[tuple[dict[str, Any], str, bytes]]) -> dict[str, Any]:
    """The app.bsky.embed.images embed for (blob from uploadBlob, alt text, data) triples."""
    images: list[dict[str, Any]] = []
    for blob, alt, data in uploaded:
        image: dict[str, Any] = {"alt": alt, "image": blob}
        size = image_size(data)
        if size is not None:
            image["aspectRatio"] = {"width": size[0], "height": size[1]}
        images.append(image)
    return {"$type": IMAGES_TYPE, "images": images}


def _byte_range(text: str, start: int, end: int) -> dict[str, int]:
    byte_start = len(text[:start].encode("utf-8"))
    return {"byteStart": byte_start, "byteEnd": byte_start + len(text[start:end].encode("utf-8"))}


def _strip_trailing(value: str) -> str:
    stripped = value.rstrip(_TRAILING)
    # Keep a closing bracket that matches one inside the URL (Wikipedia-style links).
    if value[len(stripped) : len(stripped) + 1] == ")" and stripped.count("(") > stripped.count(
        ")"
    ):
        stripped += ")"
    return stripped


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    feature: dict[str, str]


def _links(text: str) -> list[_Span]:
    spans = []
    for match in _LINK_RE.finditer(text):
        url = _strip_trailing(match.group(1))
        if "." not in url.split("://", 1)[1].split("/", 1)[0]:
            continue  # no domain to speak of
        start = match.start(1)
        spans.append(_Span(start, start + len(url), {"$type": LINK, "uri": url}))
    return spans


def _tags(text: str) -> list[_Span]:
    spans = []
    for match in _TAG_RE.finditer(text):
        tag = match.group(1).rstrip(_TRAILING + "…")
        if not tag or tag.isdigit() or count_graphemes(tag) > MAX_TAG_GRAPHEMES:
            continue
        if all(unicodedata.category(c).startswith("P") or c.isdigit() for c in tag):
            continue
        start = match.start()
        spans.append(_Span(start, match.start(1) + len(tag), {"$type": TAG, "tag": tag}))
    return spans


def _mentions(text: str, resolve: Callable[[str], str | None]) -> list[_Span]:
    spans = []
    for match in _MENTION_RE.finditer(text):
        did = resolve(match.group(1).lower())
        if did:
            spans.append(_Span(match.start(), match.end(), {"$type": MENTION, "did": did}))
    return spans


def detect_facets(
    text: str, resolve: Callable[[str], str | None] | None = None
) -> list[dict[str, Any]]:
    """Facets for the links, hashtags and (resolvable) mentions in the text, in order.

    `resolve(handle)` returns the handle's DID or None; without it mentions stay plain."""
    spans = _links(text) + _tags(text)
    if resolve is not None:
        spans += _mentions(text, resolve)
    spans.sort(key=lambda span: (span.start, span.end))
    facets: list[dict[str, Any]] = []
    last_end = -1
    for span in spans:
        if span.start < last_end:
            continue  # overlapping (a '#fragment' inside a link): the first one wins
        facets.append(
            {"index": _byte_range(text, span.start, span.end), "features": [span.feature]}
        )
        last_end = span.end
    return facets


def iso_now(now: dt.datetime) -> str:
    """Bluesky's preferred datetime form: UTC, milliseconds, a trailing Z."""
    return now.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def post_record(
    text: str,
    created_at: dt.datetime,
    *,
    facets: list[dict[str, Any]] | None = None,
    reply: dict[str, Any] | None = None,
    embed: dict[str, Any] | None = None,
    langs: tuple[str, ...] = ("en",),
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "$type": POST_TYPE,
        "text": text,
        "createdAt": iso_now(created_at),
        "langs": list(langs),
    }
    if facets:
        record["facets"] = facets
    if reply:
        record["reply"] = reply
    if embed:
        record["embed"] = embed
    return record


def reply_refs(parent: dict[str, Any]) -> dict[str, Any]:
    """{root, parent} strong refs for a reply to `parent` (a postView from getPosts).

    The root is the parent's own root when the parent is itself a reply."""
    uri, cid = parent.get("uri"), parent.get("cid")
    if not isinstance(uri, str) or not isinstance(cid, str) or not uri or not cid:
        raise ValueError("the post being replied to has no uri/cid")
    parent_ref = {"uri": uri, "cid": cid}
    record = parent.get("record")
    root_ref = parent_ref
    if isinstance(record, dict):
        reply = record.get("reply")
        root = reply.get("root") if isinstance(reply, dict) else None
        if (
            isinstance(root, dict)
            and isinstance(root.get("uri"), str)
            and isinstance(root.get("cid"), str)
        ):
            root_ref = {"uri": root["uri"], "cid": root["cid"]}
    return {"root": root_ref, "parent": parent_ref}


_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def record_key(options: PostOptions) -> str:
    """A TID (13 characters, base32-sortable: 53 bits of microseconds, 10 of clock id) fixed
    by the post itself (when it was written, its part, its idempotency key), so every
    attempt to send it names the same record."""
    created = options.created_at or now()
    micros = int(created.timestamp() * 1_000_000) + options.part
    clock = int(hashlib.sha256(options.idempotency_key.encode()).hexdigest()[:4], 16) & 0x3FF
    value = ((micros & ((1 << 53) - 1)) << 10) | clock
    return "".join(_TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))
