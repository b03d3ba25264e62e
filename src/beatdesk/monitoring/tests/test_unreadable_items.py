"""A watch's item that cannot be read is a dead letter with its reason, never a crash."""

from __future__ import annotations

import pytest

from beatdesk.monitoring.collectors import parsed, reader_for
from beatdesk.networks.base import PayloadError


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
    for network in ("mastodon", "bluesky", "x", "rss"):
        reader = reader_for(network)
        assert reader is not None
        with pytest.raises(PayloadError):
            reader(raw)
