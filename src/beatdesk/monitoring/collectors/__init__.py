"""Collectors: one per network, each searching the network's public posts for one watch.

A collector is given the watch (its term and its cursor) and returns the posts found since
the cursor, oldest first, each with the network's JSON for it verbatim, and the cursor to
resume from once they are stored. Failures are the network contract's errors
(networks.base): RateLimited, TransientError, NetworkRefused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from beatdesk.networks.base import Budget

if TYPE_CHECKING:
    from beatdesk.monitoring.actions import CollectedPost
    from beatdesk.monitoring.models import Watch


@dataclass(frozen=True)
class Collection:
    posts: list[CollectedPost]
    cursor: str
    budget: Budget = field(default_factory=Budget)
    unreadable: int = 0  # items the network sent that could not be read (skipped, counted)


Collector = Callable[["Watch"], Collection]


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
