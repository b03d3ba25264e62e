"""Collectors: one per network, each searching the network's public posts for one watch.

A collector is given the watch (its term and its cursor) and returns the posts found since
the cursor, oldest first, each with the network's JSON for it verbatim, and the cursor to
resume from once they are stored, and the items it could not read, verbatim with the
reason (they become the watch's dead letters). Failures are the network contract's errors
(networks.base): RateLimited, TransientError, NetworkRefused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from beatdesk.networks.base import Budget, PayloadError, read_json

if TYPE_CHECKING:
    from beatdesk.monitoring.actions import CollectedPost
    from beatdesk.monitoring.models import Watch
    from beatdesk.networks.base import Inbound

Item = TypeVar("Item")


@dataclass(frozen=True)
class Unread:
    """An item the network sent that could not be read: verbatim, and why."""

    raw: str
    error: str


@dataclass(frozen=True)
class Collection:
    posts: list[CollectedPost]
    cursor: str
    budget: Budget = field(default_factory=Budget)
    unread: list[Unread] = field(default_factory=list)  # kept as dead letters

    @property
    def unreadable(self) -> int:
        return len(self.unread)


Collector = Callable[["Watch"], Collection]
# One item as the collector stored it (raw) read again: a post, or PayloadError.
Reader = Callable[[str], "CollectedPost"]


def read_all(
    items: Iterable[Item], read: Callable[[Item], CollectedPost], raw_of: Callable[[Item], str]
) -> tuple[list[CollectedPost], list[Unread]]:
    """Each item read as a post, in the order given, or kept verbatim with why it could not be."""
    posts: list[CollectedPost] = []
    unread: list[Unread] = []
    for item in items:
        try:
            posts.append(read(item))
        except PayloadError as exc:
            unread.append(Unread(raw_of(item), str(exc)))
    return posts, unread


def post_of_item(network: str, item: Inbound, raw: str, **extra: Any) -> CollectedPost:
    """A watch post from a network's normalised item and the JSON it was read from."""
    from beatdesk.monitoring.actions import CollectedPost

    return CollectedPost(
        network=network,
        external_id=item.external_id,
        author_handle=item.author_handle,
        text=item.text,
        posted_at=item.created_at,
        raw=raw,
        language=item.language,
        **extra,
    )


def reader_for(network: str) -> Reader | None:
    """How a network's dead letters are read again after a fix."""
    if network == "mastodon":
        from beatdesk.monitoring.collectors.mastodon import read
    elif network == "bluesky":
        from beatdesk.monitoring.collectors.bluesky import read
    elif network == "x":
        from beatdesk.monitoring.collectors.x import read
    elif network == "rss":
        from beatdesk.monitoring.collectors.rss import read
    else:
        return None
    return read


def parsed(raw: str) -> dict[str, Any]:
    """A stored JSON item as a dict (PayloadError when it is not one)."""
    data = read_json(raw, "the item")
    if not isinstance(data, dict):
        raise PayloadError("not a JSON object")
    return data


def collector_for(network: str) -> Collector | None:
    """The collector for a network, or None when its watches are fed another way (replay)."""
    if network == "mastodon":
        from beatdesk.monitoring.collectors.mastodon import collect
    elif network == "bluesky":
        from beatdesk.monitoring.collectors.bluesky import collect
    elif network == "x":
        from beatdesk.monitoring.collectors.x import collect
    elif network == "rss":
        from beatdesk.monitoring.collectors.rss import collect
    else:
        return None
    return collect
