"""RSS/Atom: a news feed read with a conditional GET and parsed by feedparser.

The watch's term is the feed's address. Reading and the cursor (validators and the ids
already taken) are the RSS connector's own (networks.rss.inbound.fetch_feed), so a feed
watched here behaves exactly as a feed account does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from beatdesk.monitoring.actions import CollectedPost
from beatdesk.monitoring.collectors import Collection, post_of_item, read_all
from beatdesk.networks.rss.client import FeedClient
from beatdesk.networks.rss.inbound import fetch_feed, normalise_entry

if TYPE_CHECKING:
    from beatdesk.monitoring.models import Watch


def collect(watch: Watch) -> Collection:
    result = fetch_feed(FeedClient(watch.query), watch.cursor)
    posts, unread = read_all(result.bodies, read, str)
    return Collection(posts, result.cursor, result.budget, unread)


def read(raw: str) -> CollectedPost:
    return post_of_item("rss", normalise_entry(raw), raw)
