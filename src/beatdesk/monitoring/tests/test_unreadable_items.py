"""A watch's item that cannot be read is a dead letter with its reason, never a crash."""

from __future__ import annotations

import pytest

from beatdesk.networks.base import PayloadError
from beatdesk.networks.registry import connector, kinds
from beatdesk.networks.search import parsed


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"id": ' + "9" * 5000 + "}", "not readable JSON"),
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
    ],
    ids=["deep", "long-number", "broken", "a-list"],
)
def test_an_item_that_cannot_be_read_says_why(raw: str, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        parsed(raw)
    for network in kinds("can_search"):
        with pytest.raises(PayloadError):
            connector(network).read_found(raw)
