"""A live event of the demo force on its three publishing networks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from beatdesk.live.actions import do_create_event
from beatdesk.live.entries import LONDON
from beatdesk.live.models import LiveEvent

HANDLES = ("@WestmerePolice", "westmerepolice.bsky.social", "@westmerepolice@social.police.example")
START = dt.datetime(2024, 11, 22, 5, 0, tzinfo=LONDON)


@pytest.fixture
def make_event(force, account) -> Callable[..., tuple[LiveEvent, str]]:
    def _make(
        handles: tuple[str, ...] = HANDLES, pacing: int = 2, hashtag: str = "#wmp24"
    ) -> tuple[LiveEvent, str]:
        return do_create_event(
            force,
            name="Westmere 24",
            hashtag=hashtag,
            starts_at=START,
            ends_at=START + dt.timedelta(hours=24),
            accounts=[account(h) for h in handles],
            pacing_minutes=pacing,
            actor=None,
        )

    return _make


@pytest.fixture
def event(make_event) -> LiveEvent:
    return make_event()[0]
