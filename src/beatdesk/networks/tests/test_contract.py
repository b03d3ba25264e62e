"""The contract keeps its word: a network that says it can do something implements it, and
what a network cannot do is answered NotSupported with a sentence a user can read."""

from __future__ import annotations

from typing import ClassVar

import pytest

from beatdesk.networks.base import LostSend, Network, NotSupported, PostOptions
from beatdesk.networks.registry import CONNECTORS, connector, kinds
from beatdesk.networks.search import SearchTerm

# Each capability, and the methods a network that claims it must implement.
CAPABILITIES = {
    "can_fetch": ("fetch",),
    "can_publish": ("publish",),
    "can_edit": ("edit",),
    "can_delete": ("delete",),
    "can_hide_comments": ("hide_comment",),
    "can_count_reach": ("follower_count", "post_counts"),
    "can_search": ("search", "read_found"),
}


@pytest.mark.parametrize("kind", sorted(CONNECTORS))
def test_a_network_implements_what_it_says_it_can_do_and_nothing_it_says_it_cannot(kind):
    network = type(connector(kind))
    for capability, methods in CAPABILITIES.items():
        implemented = [getattr(network, m) is not getattr(Network, m) for m in methods]
        claimed = getattr(network, capability)
        assert implemented == [claimed] * len(methods), (kind, capability)
    assert network.label, kind  # the name people see
    if network.can_search:
        assert network.watch_kinds, kind  # a searchable network says what a watch follows
    if network.can_publish or network.can_fetch:
        assert network.credential_fields, kind  # and how an account connects


class Bare(Network):
    kind: ClassVar[str] = "bare"
    label: ClassVar[str] = "Bare"


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda n: n.fetch(None, ""), "Bare does not fetch"),
        (lambda n: n.publish(None, "hello", PostOptions()), "Bare cannot publish"),
        (lambda n: n.edit(None, "1", "fixed"), "delete it and post a correction"),
        (lambda n: n.delete(None, "1"), "removed on the network itself"),
        (lambda n: n.hide_comment(None, "1"), "does not let the desk hide a comment"),
        (lambda n: n.follower_count(None), "does not report followers"),
        (lambda n: n.post_counts(None, ["1"]), "does not report reach"),
        (lambda n: n.search(SearchTerm("hashtag", "#x")), "offers no public search"),
        (lambda n: n.connect(None, {}), "entering its credentials by hand"),
        (lambda n: n.refresh_credentials(None), "not refreshed by the desk"),
    ],
)
def test_what_a_network_lacks_is_refused_in_words(call, says):
    with pytest.raises(NotSupported, match=says):
        call(Bare())


def test_the_defaults_are_the_cautious_answers():
    bare = Bare()
    assert bare.recover(None, LostSend("hello", PostOptions())).outcome == "check"
    assert bare.sent_before(None, PostOptions()) == ""
    assert bare.reply_target("42", "@sam", "hello") == "42"
    assert bare.length_limit is None and bare.count_length("héllo 👋🏽") == 7
    assert bare.webhook() is None and bare.reports_emergencies


def test_the_desk_asks_by_capability():
    assert set(kinds("can_count_reach")) == {"mastodon", "bluesky", "x"}
    assert "instagram" not in kinds("starts_posts")  # a new Instagram post needs an image
    assert "email" in kinds("can_publish") and "email" not in kinds("starts_posts")
