"""The client's address: the connecting one, or behind the trusted proxies the rightmost
address in X-Forwarded-For that is not one of them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from beatdesk.core.client import client_address, trusted_networks


def request(peer: str, forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=peer, **extra)


def test_without_trusted_proxies_forwarded_for_is_ignored(settings):
    settings.BEATDESK_TRUSTED_PROXIES = []
    assert client_address(request("198.51.100.9", "203.0.113.5")) == "198.51.100.9"


@pytest.mark.parametrize(
    "peer, forwarded, client",
    [
        ("10.0.0.2", "203.0.113.5", "203.0.113.5"),
        # What the client wrote itself is left of what our proxies wrote: not believed.
        ("10.0.0.2", "1.2.3.4, 203.0.113.5", "203.0.113.5"),
        ("10.0.0.2", "203.0.113.5, 10.0.0.7", "203.0.113.5"),  # two proxies of ours
        ("10.0.0.2", "203.0.113.5:51234", "203.0.113.5"),
        ("10.0.0.2", "[2001:db8::5]:443", "2001:db8::5"),
        ("10.0.0.2", "not-an-address", "10.0.0.2"),
        ("10.0.0.2", "", "10.0.0.2"),
        ("10.0.0.2", "10.0.0.9", "10.0.0.9"),  # only proxies: the leftmost
        ("::ffff:10.0.0.2", "203.0.113.5", "203.0.113.5"),
        # An untrusted peer names nobody else, whatever it sends.
        ("198.51.100.9", "203.0.113.5", "198.51.100.9"),
    ],
)
def test_behind_trusted_proxies_the_rightmost_untrusted_address(settings, peer, forwarded, client):
    settings.BEATDESK_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(request(peer, forwarded)) == client


def test_a_wrong_proxy_network_stops_the_start_up():
    with pytest.raises(ImproperlyConfigured, match="BEATDESK_TRUSTED_PROXIES"):
        trusted_networks(["10.0.0.0/33"])
