"""Network kind -> connector class, imported only when first used."""

from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string

from beatdesk.networks.base import Network

CONNECTORS: dict[str, str] = {
    "replay": "beatdesk.networks.replay.inbound.ReplayNetwork",
    "bluesky": "beatdesk.networks.bluesky.inbound.BlueskyNetwork",
    "x": "beatdesk.networks.x.inbound.XNetwork",
    "mastodon": "beatdesk.networks.mastodon.inbound.MastodonNetwork",
    "webform": "beatdesk.networks.webform.inbound.WebformNetwork",
    "rss": "beatdesk.networks.rss.inbound.RSSNetwork",
    "email": "beatdesk.networks.email.inbound.EmailNetwork",
    "facebook": "beatdesk.networks.facebook.inbound.FacebookNetwork",
    "instagram": "beatdesk.networks.facebook.inbound.InstagramNetwork",
}


class UnknownNetwork(LookupError):
    pass


@cache
def connector(kind: str) -> Network:
    try:
        path = CONNECTORS[kind]
    except KeyError:
        known = ", ".join(sorted(CONNECTORS))
        raise UnknownNetwork(f"no connector for network {kind!r} (known: {known})") from None
    cls = import_string(path)
    instance: Network = cls()
    return instance
