"""The address a request really came from, behind the force's own proxies.

X-Forwarded-For is believed only as far as the proxies in BEATDESK_TRUSTED_PROXIES (CIDRs)
wrote it: walking it from the right, the first address that is not one of them is the
client. A request whose connecting address is not a trusted proxy is taken at that
address, whatever it says in X-Forwarded-For, so nobody outside can pick their own.

django-ipware (installed) is not used for this: its proxy list is matched against the
header alone, never against the connecting address, so a client that connects directly
could name any address it liked.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(cidrs: Iterable[str]) -> list[Network]:
    """The networks of BEATDESK_TRUSTED_PROXIES; a wrong entry stops the start-up."""
    networks: list[Network] = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"BEATDESK_TRUSTED_PROXIES: {cidr!r} is not an address or a CIDR network"
            ) from exc
    return networks


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.7:51234
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: list[Network]) -> bool:
    return any(address in network for network in networks)


def client_address(request: HttpRequest) -> str:
    """The client's address: the connecting one, or behind trusted proxies the rightmost
    address in X-Forwarded-For that is not a trusted proxy."""
    peer = str(request.META.get("REMOTE_ADDR") or "")
    networks = trusted_networks(getattr(settings, "BEATDESK_TRUSTED_PROXIES", []))
    connected = _address(peer)
    if connected is None or not networks or not _trusted(connected, networks):
        return str(connected) if connected is not None else peer
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
    client = connected
    for hop in reversed([h for h in forwarded.split(",") if h.strip()]):
        address = _address(hop)
        if address is None:
            break  # not an address: nothing to its left was written by our proxies
        client = address
        if not _trusted(address, networks):
            break
    return str(client)
