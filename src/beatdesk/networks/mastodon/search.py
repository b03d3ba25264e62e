"""Mastodon: a hashtag's public timeline, or a full-text search of statuses.

- hashtag: GET /api/v1/timelines/tag/:hashtag
- keyword, phrase: GET /api/v2/search?type=statuses (a phrase is searched in quotes)

Both answer newest first. The cursor is the newest status id stored; the next collection
pages forward from it with min_id ("results immediately newer than this id") until a page
is short, up to MAX_PAGES. The very first collection reads one page: the watch starts
from now, not from the tag's history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from beatdesk.networks.base import Budget, NetworkRefused, TransientError
from beatdesk.networks.mastodon.client import MastodonClient, client_for
from beatdesk.networks.search import (
    FoundPost,
    SearchResult,
    SearchTerm,
    hashtag_of,
    quoted,
    raw_json,
    read_all,
)

PAGE_SIZE = 40  # Mastodon's maximum for timelines and search
MAX_PAGES = 10
SEARCH_PATH = "/api/v2/search"


def _order(status_id: str) -> tuple[int, str]:
    return (len(status_id), status_id)  # snowflake ids as strings: order them as numbers


def _page(client: MastodonClient, watch: SearchTerm, min_id: str) -> tuple[list[Any], Budget]:
    bound = [("min_id", min_id)] if min_id else []
    if watch.kind == "hashtag":
        tag = hashtag_of(watch.query)
        reply = client.request(
            "GET",
            f"/api/v1/timelines/tag/{quote(tag, safe='')}",
            params=[("limit", str(PAGE_SIZE)), *bound],
        )
        statuses = reply.data
    else:
        query = watch.query.strip()
        if watch.kind == "phrase":
            query = quoted(query)
        reply = client.request(
            "GET",
            SEARCH_PATH,
            params=[
                ("q", query),
                ("type", "statuses"),
                ("resolve", "false"),
                ("limit", str(PAGE_SIZE)),
                *bound,
            ],
        )
        statuses = reply.data.get("statuses") if isinstance(reply.data, dict) else None
    if not isinstance(statuses, list):
        raise TransientError(f"Mastodon answered the {watch.kind} watch in an unexpected shape")
    return [s for s in statuses if isinstance(s, dict)], reply.budget


def search(watch: SearchTerm, read: Callable[[str], FoundPost]) -> SearchResult:
    """The statuses found since the watch's cursor, each read with `read`."""
    if watch.account is None:
        raise NetworkRefused("a Mastodon watch searches through one of the force's accounts")
    client = client_for(watch.account)
    cursor = watch.cursor
    found: dict[str, dict[str, Any]] = {}
    budget = Budget()
    after = cursor
    for _ in range(MAX_PAGES if cursor else 1):
        page, budget = _page(client, watch, after)
        ids = [str(s.get("id") or "") for s in page]
        for status_id, status in zip(ids, page, strict=True):
            if status_id and (not cursor or _order(status_id) > _order(cursor)):
                found.setdefault(status_id, status)
        newest = max(ids, key=_order, default="")
        if len(page) < PAGE_SIZE or not newest or (after and _order(newest) <= _order(after)):
            break  # caught up, or the instance is not paging forward: never loop
        after = newest
    raws = [raw_json(found[status_id]) for status_id in sorted(found, key=_order)]
    posts, unread = read_all(raws, read, str)
    newest_id = max([cursor, *found], key=_order) if found else cursor
    return SearchResult(posts, newest_id, budget, unread)
