"""The RSS/Atom connector: read-only sources such as local news, council and partner feeds.

Fetching downloads the feed (client.py, a conditional GET) and parses the bytes with
feedparser, which reads RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 alike. Each new entry becomes one
delivery: a small, self-contained JSON object carrying the feed's title and link and the
entry's id, title, link, summary (HTML), published/updated times (ISO 8601, UTC) and author.

The cursor is a small JSON object: the ETag and Last-Modified the server last gave (sent
back as If-None-Match / If-Modified-Since) and the ids of the newest entries already taken
("seen", at most SEEN_CAP), since a feed is a window of its latest items, not a log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import json
import re
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

import feedparser  # type: ignore[import-untyped]

from beatdesk.networks.base import (
    FetchResult,
    Field,
    Inbound,
    Network,
    PayloadError,
    TransientError,
    as_list,
    parse_time,
    read_json,
)
from beatdesk.networks.rss.client import TIMEOUT_SECONDS, FeedClient, client_for
from beatdesk.networks.search import FoundPost, SearchResult, SearchTerm, post_of_item, read_all

if TYPE_CHECKING:
    import httpx

    from beatdesk.networks.models import NetworkAccount

SEEN_CAP = 200  # ids remembered, and entries read per fetch (the newest)
MAX_ID = 200  # Message.external_id's length


# --- HTML to plain text -------------------------------------------------------------------

_BLOCKS = {
    "p", "div", "br", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5",
    "h6", "tr", "table", "section", "article", "header", "footer", "figure", "figcaption", "hr",
}  # fmt: skip


class _PlainText(HTMLParser):
    """Text of an entry's HTML: block elements end a line; scripts and styles are dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            # A line break in the source is only whitespace; block elements end lines.
            self.parts.append(data.replace("\r", " ").replace("\n", " "))


def html_to_text(content: str) -> str:
    """Plain text: tags stripped, entities unescaped, whitespace collapsed (a single space
    within a line, one newline between blocks, none at the ends)."""
    parser = _PlainText()
    try:
        parser.feed(content)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # html.parser is lenient, but never fail a message over its markup
        text = html.unescape(content)
    lines = (re.sub(r"\s+", " ", line).strip() for line in text.replace("\xa0", " ").split("\n"))
    return "\n".join(line for line in lines if line)


# --- fetching -------------------------------------------------------------------------------


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _iso(parsed: Any, raw: Any) -> str:
    """feedparser's UTC struct_time as ISO 8601; else the raw text if it parses; else ""."""
    if parsed:
        try:
            year, month, day, hour, minute, second = (int(v) for v in parsed[:6])
            return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC).isoformat()
        except (TypeError, ValueError):
            pass
    if _str(raw):
        try:
            return parse_time(_str(raw)).isoformat()
        except PayloadError:
            return ""
    return ""


_EMAIL = r"[^\s@()<>]+@[^\s()<>]+"
_AUTHOR_FORMS = (
    re.compile(rf"^{_EMAIL}\s*\((?P<name>.+)\)$"),  # RSS 2.0: lawyer@example.com (Lawyer Boyer)
    re.compile(rf"^(?P<name>.+?)\s*\(\s*{_EMAIL}\s*\)$"),  # feedparser's Atom: Name (email)
    re.compile(rf"^(?P<name>.+?)\s*<\s*{_EMAIL}\s*>$"),  # Name <email>
)


def _author(item: Any) -> str:
    """The author's name. An RSS <author> is "email (Name)"; feedparser splits that itself,
    but its e-mail pattern knows only 2-4 letter top-level domains and mangles the rest
    ("news@gazette.example (Priya Shah)" -> "ple (Priya Shah"), so it is split here."""
    raw = " ".join(_str(item.get("author")).split())
    detail = item.get("author_detail")
    name = _str(detail.get("name")) if isinstance(detail, dict) else ""
    if "@" not in raw:
        return name or raw
    for form in _AUTHOR_FORMS:
        if match := form.match(raw):
            return match.group("name").strip()
    return raw  # a bare e-mail address: all there is


def entry_id(entry: Any) -> str:
    """The entry's id (Atom id, RSS guid), else its link, else a hash of title + published."""
    found = _str(entry.get("id")) or _str(entry.get("link"))
    if not found:
        basis = f"{_str(entry.get('title'))}\n{_str(entry.get('published'))}"
        found = "sha256:" + hashlib.sha256(basis.encode()).hexdigest()
    return found


def entry_record(feed: Any, entry: Any) -> dict[str, Any]:
    """One entry as a self-contained delivery."""
    summary = _str(entry.get("summary"))
    if not summary:
        for part in as_list(entry.get("content")):
            if isinstance(part, dict) and _str(part.get("value")):
                summary = _str(part.get("value"))
                break
    return {
        "feed_title": _str(feed.get("title")),
        "feed_link": _str(feed.get("link")),
        "id": entry_id(entry),
        "title": _str(entry.get("title")),
        "link": _str(entry.get("link")),
        "summary": summary,
        "published": _iso(entry.get("published_parsed"), entry.get("published")),
        # dict.get: feedparser's own get falls back from "updated" to "published" (warning).
        "updated": _iso(dict.get(entry, "updated_parsed"), dict.get(entry, "updated")),
        "author": _author(entry) or _author(feed),
    }


def read_cursor(cursor: str) -> dict[str, Any]:
    """{"etag", "modified", "seen"} from a cursor; an empty or unreadable one starts afresh."""
    try:
        data = json.loads(cursor) if cursor else {}
    except json.JSONDecodeError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    seen = data.get("seen")
    return {
        "etag": _str(data.get("etag")),
        "modified": _str(data.get("modified")),
        "seen": [s for s in seen if isinstance(s, str)] if isinstance(seen, list) else [],
    }


def write_cursor(etag: str, modified: str, seen: list[str]) -> str:
    return json.dumps(
        {"etag": etag, "modified": modified, "seen": seen[:SEEN_CAP]},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _oldest_first(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feeds list their newest entry first, but not always: when every entry has a time,
    order by it (the reversed document order breaking ties); otherwise trust the document."""
    ordered = list(reversed(records))
    times: list[str] = [r["published"] or r["updated"] for r in ordered]
    if all(times):
        ranked = sorted(zip(times, range(len(ordered)), strict=True))
        ordered = [ordered[index] for _, index in ranked]
    return ordered


def fetch_feed(client: FeedClient, cursor: str) -> FetchResult:
    """Entries not yet taken, oldest first, and the cursor to resume from."""
    state = read_cursor(cursor)
    reply = client.get(etag=state["etag"], modified=state["modified"])
    if reply.content is None:  # 304 Not Modified
        return FetchResult(bodies=[], cursor=cursor)
    headers = {"content-location": reply.url}
    if reply.content_type:
        headers["content-type"] = reply.content_type
    # A stream, not bytes or str: feedparser would fetch a URL or open a file named so.
    parsed = feedparser.parse(io.BytesIO(reply.content), response_headers=headers)
    entries = [e for e in parsed.get("entries") or [] if isinstance(e, dict)]
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        # Malformed, or well-formed but not a feed (an HTML error page, an empty body). A
        # bozo feed that still has entries (an undefined entity, a cut-off end) is read.
        problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
        reason = str(problem)[:200] if problem else "it is not RSS or Atom"
        raise TransientError(f"GET {client.where}: could not read the feed: {reason}")
    feed = parsed.get("feed") or {}

    records: list[dict[str, Any]] = []
    ids: set[str] = set()
    for entry in entries:
        record = entry_record(feed, entry)
        if record["id"] not in ids:  # a feed listing one entry twice: keep the first
            ids.add(record["id"])
            records.append(record)
    window = _oldest_first(records)[-SEEN_CAP:]  # only the newest SEEN_CAP are read
    seen = set(state["seen"])
    new = [r for r in window if r["id"] not in seen]
    bodies = [json.dumps(r, ensure_ascii=False) for r in new]
    # Newest first: the feed's window, then what was seen before and is no longer listed.
    window_ids = [r["id"] for r in reversed(window)]
    remembered = window_ids + [s for s in state["seen"] if s not in set(window_ids)]
    # Keep the validators the server last gave; a server that stops sending them is asked
    # unconditionally (and the seen ids keep the answer from repeating entries).
    return FetchResult(bodies=bodies, cursor=write_cursor(reply.etag, reply.modified, remembered))


# --- normalising ----------------------------------------------------------------------------


def _external_id(entry_id: str) -> str:
    if len(entry_id) <= MAX_ID:
        return entry_id
    return "sha256:" + hashlib.sha256(entry_id.encode()).hexdigest()  # too long to store


def _created_at(record: dict[str, Any]) -> dt.datetime:
    for key in ("published", "updated"):
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            try:
                return parse_time(value)
            except PayloadError:
                continue
    return dt.datetime.now(dt.UTC)


def normalise_entry(body: str) -> Inbound:
    record = read_json(body, "a feed entry")
    if not isinstance(record, dict):
        raise PayloadError("an RSS delivery must be a JSON object")
    external_id = _str(record.get("id"))
    if not external_id:
        raise PayloadError("the feed entry has no id")
    title = html_to_text(_str(record.get("title")))
    summary = html_to_text(_str(record.get("summary")))
    if not title and not summary:
        raise PayloadError("the feed entry has neither a title nor a summary")
    feed_title = html_to_text(_str(record.get("feed_title")))
    author = _str(record.get("author"))
    link = _str(record.get("link"))
    return Inbound(
        network="rss",
        external_id=_external_id(external_id),
        author_handle=(feed_title or author)[:200],
        author_name=(author or feed_title)[:200],
        text="\n\n".join(part for part in (title, summary) if part),
        created_at=_created_at(record),
        attachments=[{"type": "link", "url": link}] if link else [],
    )


# --- the connector --------------------------------------------------------------------------


class RSSNetwork(Network):
    """Read-only: the desk listens to feeds and never publishes to them."""

    kind = "rss"
    label = "RSS/Atom"
    can_fetch = True
    can_publish = False
    can_search = True
    reports_emergencies = False  # a news story about an emergency is not a call for help
    watch_kinds = frozenset({"feed"})
    credential_fields = (
        Field("feed_url", "Feed address"),
        Field("username", "User name (if the feed needs one)", required=False),
        Field("password", "Password", secret=True, required=False),
    )

    def __init__(
        self, *, timeout: float = TIMEOUT_SECONDS, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._timeout = timeout
        self._transport = transport

    def normalise(self, body: str) -> Inbound:
        return normalise_entry(body)

    def fetch(self, account: NetworkAccount, cursor: str) -> FetchResult:
        client = client_for(account, timeout=self._timeout, transport=self._transport)
        return fetch_feed(client, cursor)

    def search(self, term: SearchTerm) -> SearchResult:
        """A feed watch: the feed at the watch's address, read exactly as a feed account is
        (conditional GET, the validators and the ids already taken in the cursor)."""
        result = fetch_feed(FeedClient(term.query), term.cursor)
        posts, unread = read_all(result.bodies, self.read_found, str)
        return SearchResult(posts, result.cursor, result.budget, unread)

    def read_found(self, raw: str) -> FoundPost:
        return post_of_item(self.kind, normalise_entry(raw), raw)
