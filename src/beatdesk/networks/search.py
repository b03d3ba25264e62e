"""Searching a network's public posts for a watch: what a search is asked and answers.

A network that offers search (`Network.search`) is given the term (its kind, its words and
its cursor) and returns the posts found since the cursor, oldest first, each with the
network's JSON for it verbatim, the cursor to resume from once they are stored, and the
items it could not read, verbatim with the reason (they become the watch's dead letters).
Failures are the contract's errors: RateLimited, TransientError, NetworkRefused.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from beatdesk.networks.base import Budget, Inbound, PayloadError, read_json

if TYPE_CHECKING:
    from beatdesk.networks.models import NetworkAccount

Item = TypeVar("Item")

_HASHTAG = re.compile(r"^#?(\w{1,139})$")
_POINT = re.compile(
    r"^\s*(?P<lat>-?\d{1,2}(?:\.\d+)?)\s*,\s*(?P<lon>-?\d{1,3}(?:\.\d+)?)\s*,\s*"
    r"(?P<km>\d{1,3}(?:\.\d+)?)\s*(?:km)?\s*$"
)


@dataclass(frozen=True)
class SearchTerm:
    """What one watch asks a network: a hashtag, keyword, phrase, place or feed, where it
    got to (`cursor`), and the force's account to search through (None for a feed)."""

    kind: str
    query: str
    cursor: str = ""
    name: str = ""
    account: NetworkAccount | None = None


@dataclass(frozen=True)
class FoundPost:
    """One public post a search found: `raw` is the network's JSON for it, verbatim."""

    network: str
    external_id: str
    author_handle: str
    text: str
    posted_at: dt.datetime
    raw: str
    language: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Unread:
    """An item the network sent that could not be read: verbatim, and why."""

    raw: str
    error: str


@dataclass(frozen=True)
class SearchResult:
    posts: list[FoundPost]
    cursor: str
    budget: Budget = field(default_factory=Budget)
    unread: list[Unread] = field(default_factory=list)  # kept as dead letters

    @property
    def unreadable(self) -> int:
        return len(self.unread)


def hashtag_of(query: str) -> str:
    """The hashtag without its '#', or '' when the query is not one hashtag."""
    match = _HASHTAG.match(query.strip())
    return match.group(1) if match else ""


def point_of(query: str) -> tuple[float, float, float] | None:
    """(latitude, longitude, radius km) of a place written as "lat,lon,km"."""
    match = _POINT.match(query)
    if not match:
        return None
    return float(match["lat"]), float(match["lon"]), float(match["km"])


def quoted(term: str) -> str:
    """A phrase searched as a phrase."""
    return '"' + term.strip().strip('"') + '"'


def raw_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def parsed(raw: str) -> dict[str, Any]:
    """A stored JSON item as a dict (PayloadError when it is not one)."""
    data = read_json(raw, "the item")
    if not isinstance(data, dict):
        raise PayloadError("not a JSON object")
    return data


def read_all(
    items: Iterable[Item], read: Callable[[Item], FoundPost], raw_of: Callable[[Item], str]
) -> tuple[list[FoundPost], list[Unread]]:
    """Each item read as a post, in the order given, or kept verbatim with why it could not be."""
    posts: list[FoundPost] = []
    unread: list[Unread] = []
    for item in items:
        try:
            posts.append(read(item))
        except PayloadError as exc:
            unread.append(Unread(raw_of(item), str(exc)))
    return posts, unread


def post_of_item(network: str, item: Inbound, raw: str, **extra: Any) -> FoundPost:
    """A found post from a network's normalised item and the JSON it was read from."""
    return FoundPost(
        network=network,
        external_id=item.external_id,
        author_handle=item.author_handle,
        text=item.text,
        posted_at=item.created_at,
        raw=raw,
        language=item.language,
        **extra,
    )
