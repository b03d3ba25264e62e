"""Network kind -> connector class, imported only when first used.

Adding a network is its folder and one line here (docs/adding-a-network.md). Everything
else the desk knows about a network it asks the connector (networks/base.py), so nothing
outside networks/ names a kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cache
from operator import attrgetter

from django.utils.module_loading import import_string

from beatdesk.networks.base import Network
from beatdesk.networks.length import PLAIN, Counting

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


def register(kind: str, path: str) -> None:
    """Add a network from code (a plug-in, a test): the same as a line in CONNECTORS."""
    CONNECTORS[kind] = path
    connector.cache_clear()


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


def known(kind: str) -> Network | None:
    """The connector for `kind`, or None when no network of that kind is registered."""
    try:
        return connector(kind)
    except UnknownNetwork:
        return None


def kinds(where: str | Callable[[Network], bool] = "kind") -> list[str]:
    """The registered kinds whose connector answers yes (a capability's name, such as
    "can_search", or a question), in registration order."""
    ask = where if callable(where) else attrgetter(where)
    return [kind for kind in CONNECTORS if ask(connector(kind))]


def network_choices() -> list[tuple[str, str]]:
    """(kind, name on screen) of every registered network: the choices of a kind field."""
    return [(kind, connector(kind).name) for kind in CONNECTORS]


def network_label(kind: str) -> str:
    network = known(kind)
    return network.name if network is not None else kind


def length_of(kind: str) -> Counting:
    """How `kind` counts a post's length (graphemes without a limit when unknown)."""
    network = known(kind)
    return network.counting or PLAIN if network is not None else PLAIN


class LengthLimits(Mapping[str, int]):
    """Each network's length limit by kind, asked of the network: kinds without one are
    absent, so `.get(kind)` is None for them."""

    def __getitem__(self, kind: str) -> int:
        limit = length_of(kind).limit
        if limit is None:
            raise KeyError(kind)
        return limit

    def __iter__(self) -> Iterator[str]:
        return iter([kind for kind in CONNECTORS if length_of(kind).limit is not None])

    def __len__(self) -> int:
        return len(list(iter(self)))
