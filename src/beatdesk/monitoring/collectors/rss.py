"""RSS/Atom: a news feed read with a conditional GET and parsed by feedparser.

The watch's term is the feed's address. Reading and the cursor (validators and the ids
already taken) are the RSS connector's own (networks.rss.inbound.fetch_feed), so a feed
watched here behaves exactly as a feed account does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from beatdesk.monitoring.actions import CollectedPost
from beatdesk.monitoring.collectors import Collection, Unread
from beatdesk.networks.base import PayloadError
from beatdesk.networks.rss.client import FeedClient
from beatdesk.networks.rss.inbound import fetch_feed, normalise_entry

if TYPE_CHECKING:
    from beatdesk.monitoring.models import Watch


def collect(watch: Watch) -> Collection:
    result = fetch_feed(FeedClient(watch.query), watch.cursor)
    posts: list[CollectedPost] = []
    unread: list[Unread] = []
    for body in result.bodies:
        try:
            posts.append(read(body))
        except PayloadError as exc:
            unread.append(Unread(body, str(exc)))
    return Collection(posts, result.cursor, result.budget, unread)


def read(raw: str) -> CollectedPost:
    item = normalise_entry(raw)
    return CollectedPost(
        network="rss",
        external_id=item.external_id,
        author_handle=item.author_handle,
        text=item.text,
        posted_at=item.created_at,
        raw=raw,
        language=item.language,
    )
