"""X: GET /2/tweets/search/recent (the last seven days of public posts).

The query is the watch's term: "#tag", words, a "quoted phrase", or for a place
place:"Name" or point_radius:[lon lat Rkm]. X answers newest first and pages older with
next_token; since_id (the cursor: the newest post id stored) bounds the search, so every
page is new. The very first collection reads one page: the watch starts from now.
Geotagged posts carry geo.coordinates (a point) or geo.place_id, expanded into a place
whose bounding box's centre is used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from beatdesk.networks.base import Budget, NetworkRefused, PayloadError, TransientError
from beatdesk.networks.search import (
    FoundPost,
    SearchResult,
    SearchTerm,
    hashtag_of,
    parsed,
    point_of,
    quoted,
    raw_json,
    read_all,
)
from beatdesk.networks.x.client import api_base, request

PAGE_SIZE = 100
MAX_PAGES = 10
TWEET_FIELDS = "created_at,lang,geo,author_id,conversation_id"
EXPANSIONS = "geo.place_id,author_id"
PLACE_FIELDS = "geo,full_name"
USER_FIELDS = "username,name"


def search_query(watch: SearchTerm) -> str:
    term = watch.query.strip()
    if watch.kind == "hashtag":
        return "#" + hashtag_of(term)
    if watch.kind == "phrase":
        return quoted(term)
    if watch.kind == "place":
        point = point_of(term)
        if point is not None:
            lat, lon, km = point
            return f"point_radius:[{lon:g} {lat:g} {km:g}km]"
        return 'place:"' + term.replace('"', "") + '"'
    return term


def _order(post_id: str) -> int:
    return int(post_id) if post_id.isdigit() else -1


def _where(tweet: dict[str, Any], places: dict[str, Any]) -> tuple[float | None, float | None]:
    """(latitude, longitude): the post's own point, else the centre of its place's box."""
    geo = tweet.get("geo")
    if not isinstance(geo, dict):
        return None, None
    point = geo.get("coordinates")
    if isinstance(point, dict):
        coordinates = point.get("coordinates")
        if isinstance(coordinates, list) and len(coordinates) == 2:
            return float(coordinates[1]), float(coordinates[0])
    place = places.get(str(geo.get("place_id") or ""))
    box = place.get("geo", {}).get("bbox") if isinstance(place, dict) else None
    if isinstance(box, list) and len(box) == 4:
        west, south, east, north = (float(v) for v in box)
        return (south + north) / 2, (west + east) / 2
    return None, None


def _bodies(page: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """One self-contained body per post: the post with its author and place."""
    tweets = page.get("data", [])
    includes = page.get("includes") or {}
    if not isinstance(tweets, list) or not isinstance(includes, dict):
        raise TransientError("X answered the search in an unexpected shape")
    users = {str(u.get("id")): u for u in includes.get("users") or [] if isinstance(u, dict)}
    places = {str(p.get("id")): p for p in includes.get("places") or [] if isinstance(p, dict)}
    found = []
    for tweet in tweets:
        if not isinstance(tweet, dict) or not str(tweet.get("id") or "").isdigit():
            continue
        own: dict[str, Any] = {}
        if (author := users.get(str(tweet.get("author_id")))) is not None:
            own["users"] = [author]
        geo = tweet.get("geo")
        geo = geo if isinstance(geo, dict) else {}
        if (place := places.get(str(geo.get("place_id")))) is not None:
            own["places"] = [place]
        found.append((str(tweet["id"]), {"data": tweet, "includes": own}))
    return found


def where(body: dict[str, Any]) -> tuple[float | None, float | None]:
    """(latitude, longitude) of one found post's body (its data and includes)."""
    places = {str(p.get("id")): p for p in body["includes"].get("places", [])}
    return _where(body["data"], places)


def found_body(raw: str) -> dict[str, Any]:
    """A found post's body read again: PayloadError unless it has its data and includes."""
    body = parsed(raw)
    if not isinstance(body.get("data"), dict) or not isinstance(body.get("includes"), dict):
        raise PayloadError("an X post needs its data and includes")
    return body


def search(watch: SearchTerm, read: Callable[[str], FoundPost]) -> SearchResult:
    """The posts found since the watch's cursor, each read with `read`."""
    if watch.account is None:
        raise NetworkRefused("an X watch searches through one of the force's accounts")
    credentials = watch.account.get_credentials()
    token = credentials.get("bearer_token")
    if not token:
        raise NetworkRefused(f"X account {watch.account.handle} needs a bearer_token to search")
    base = api_base(credentials)
    params = {
        "query": search_query(watch),
        "max_results": str(PAGE_SIZE),
        "tweet.fields": TWEET_FIELDS,
        "expansions": EXPANSIONS,
        "place.fields": PLACE_FIELDS,
        "user.fields": USER_FIELDS,
    }
    if watch.cursor:
        params["since_id"] = watch.cursor
    bodies: dict[str, dict[str, Any]] = {}
    newest = watch.cursor
    budget = Budget()
    for _ in range(MAX_PAGES if watch.cursor else 1):
        answer = request(
            "GET",
            f"{base}/2/tweets/search/recent",
            token=str(token),
            what=f"searching for watch {watch.name!r}",
            params=params,
        )
        budget, page = answer.budget, answer.data
        if "data" not in page and page.get("errors") and not isinstance(page.get("meta"), dict):
            raise NetworkRefused(f"X refused the search: {json.dumps(page['errors'])[:300]}")
        found = _bodies(page)
        bodies.update(found)
        meta = page.get("meta")
        meta = meta if isinstance(meta, dict) else {}
        for candidate in [str(meta.get("newest_id") or ""), *(i for i, _ in found)]:
            if _order(candidate) > _order(newest):
                newest = candidate
        next_token = meta.get("next_token")
        if not next_token or not found:
            break
        params["next_token"] = str(next_token)
    ordered = [bodies[post_id] for post_id in sorted(bodies, key=_order)]
    posts, unread = read_all(ordered, lambda body: read(raw_json(body)), raw_json)
    return SearchResult(posts, newest, budget, unread)
