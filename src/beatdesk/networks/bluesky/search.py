"""Bluesky: app.bsky.feed.searchPosts (q, sort=latest, since, cursor) through the account's PDS.

Search answers newest first and its own cursor pages towards older posts, so the watch
keeps its own position: the indexedAt of the newest post stored. A collection asks for
posts since that time and pages back (at most MAX_PAGES of PAGE_SIZE) until it reaches
it. The very first collection reads one page: the watch starts from now.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from beatdesk.networks.base import Budget, NetworkRefused, PayloadError, TransientError, parse_time
from beatdesk.networks.bluesky.client import XrpcClient
from beatdesk.networks.bluesky.sessions import account_credentials
from beatdesk.networks.search import (
    FoundPost,
    SearchResult,
    SearchTerm,
    hashtag_of,
    parsed,
    quoted,
    raw_json,
    read_all,
)

PAGE_SIZE = 100  # the lexicon's maximum
MAX_PAGES = 10
SEARCH = "app.bsky.feed.searchPosts"


def search_query(watch: SearchTerm) -> str:
    if watch.kind == "hashtag":
        return "#" + hashtag_of(watch.query)
    if watch.kind == "phrase":
        return quoted(watch.query)
    return watch.query.strip()


def post_of(view: dict[str, Any]) -> FoundPost:
    """One PostView (app.bsky.feed.defs#postView) as a found post."""
    uri, author, record = view.get("uri"), view.get("author"), view.get("record")
    if not isinstance(uri, str) or not uri.startswith("at://"):
        raise PayloadError("a Bluesky post needs an at:// uri")
    if not isinstance(author, dict) or not isinstance(author.get("handle"), str):
        raise PayloadError("a Bluesky post needs its author's handle")
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise PayloadError("a Bluesky post needs its record's text")
    langs = record.get("langs")
    return FoundPost(
        network="bluesky",
        external_id=uri,
        author_handle="@" + str(author["handle"]),
        text=str(record["text"]),
        posted_at=parse_time(record.get("createdAt") or view.get("indexedAt")),
        raw=raw_json(view),
        language=str(langs[0])[:16] if isinstance(langs, list) and langs else "",
    )


def _position(cursor: str) -> dt.datetime | None:
    try:
        return parse_time(cursor) if cursor else None
    except PayloadError:
        return None  # an unreadable cursor starts afresh, as a first collection


def search(client: XrpcClient, watch: SearchTerm) -> SearchResult:
    if watch.account is None:
        raise NetworkRefused("a Bluesky watch searches through one of the force's accounts")
    credentials = account_credentials(watch.account)
    since = _position(watch.cursor)
    params: dict[str, Any] = {"q": search_query(watch), "sort": "latest", "limit": PAGE_SIZE}
    if since is not None:
        params["since"] = since.isoformat().replace("+00:00", "Z")
    taken: dict[str, tuple[dt.datetime, dict[str, Any]]] = {}
    newest: tuple[dt.datetime, str] | None = None
    budget = Budget()
    for _ in range(MAX_PAGES if since is not None else 1):
        _session, reply = client.authed(credentials, "GET", SEARCH, params=params)
        budget = reply.budget
        views = reply.data.get("posts")
        if not isinstance(views, list):
            raise TransientError("Bluesky searchPosts: no 'posts' list in the answer")
        reached = False
        for view in views:
            if not isinstance(view, dict) or not isinstance(view.get("indexedAt"), str):
                continue
            try:
                at = parse_time(view["indexedAt"])
            except PayloadError:
                continue
            if since is not None and at < since:
                reached = True
                continue
            if newest is None or at > newest[0]:
                newest = (at, str(view["indexedAt"]))
            taken.setdefault(str(view.get("uri")), (at, view))
        api_cursor = reply.data.get("cursor")
        if reached or not views or not isinstance(api_cursor, str) or not api_cursor:
            break
        params["cursor"] = api_cursor
    ordered = [view for _uri, (_at, view) in sorted(taken.items(), key=lambda p: (p[1][0], p[0]))]
    posts, unread = read_all(ordered, post_of, raw_json)
    cursor = newest[1] if newest is not None else watch.cursor
    return SearchResult(posts, cursor, budget, unread)


def read(raw: str) -> FoundPost:
    return post_of(parsed(raw))
