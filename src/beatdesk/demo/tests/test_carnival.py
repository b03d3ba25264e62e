"""The demo's carnival traffic, played into Op Lantern's approved watch as `beatdesk demo`
does: the supervisor's board then shows the afternoon's spike, the stabbing rumour proposed
as a possible rumour, the lost-child and road-closure reposts as stories, and the posts
geotagged in the operation's area on its map."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from beatdesk.accounts.models import Force
from beatdesk.demo.management.commands.demo import CARNIVAL_WATCH, carnival_path
from beatdesk.monitoring.demo import CARNIVAL_AREA
from beatdesk.monitoring.models import Operation, WatchPost
from beatdesk.stories.models import Spike, Story

pytestmark = pytest.mark.django_db(transaction=True)


def records() -> list[dict[str, Any]]:
    text = carnival_path().read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def in_area(latitude: float, longitude: float) -> bool:
    """Ray casting against the operation's outline ([lat, lon] corners)."""
    inside = False
    corners = list(zip(CARNIVAL_AREA, CARNIVAL_AREA[1:] + CARNIVAL_AREA[:1], strict=True))
    for (y1, x1), (y2, x2) in corners:
        crosses = (y1 > latitude) != (y2 > latitude)
        if crosses and longitude < (x2 - x1) * (latitude - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


@pytest.fixture
def operation(force: Force) -> Operation:
    out = StringIO()
    call_command(
        "replay",
        str(carnival_path()),
        "--watch",
        CARNIVAL_WATCH,
        "--fast",
        "--no-progress",
        stdout=out,
    )
    assert f"replayed {len(records())} posts" in out.getvalue()
    return Operation.objects.get(force=force, name="Op Lantern — Westmere Carnival")


def test_the_carnival_is_one_saturday_of_hashtag_posts_in_time_order() -> None:
    posts = records()
    times = [p["created_at"] for p in posts]
    assert times == sorted(times)
    assert {t[:10] for t in times} == {"2026-03-14"}
    assert len({p["id"] for p in posts}) == len(posts)
    assert sum("#WestmereCarnival" in p["text"] for p in posts) == len(posts)
    assert len({p["network"] for p in posts}) >= 4 and len({p["lang"] for p in posts}) >= 5


def test_the_board_shows_the_spike_the_rumour_candidate_the_reposts_and_the_map(
    operation: Operation, client_for: Callable[[str], Client]
) -> None:
    posts = WatchPost.objects.filter(watch__operation=operation)
    assert posts.count() == len(records())
    located = posts.filter(latitude__isnull=False, longitude__isnull=False)
    assert located.count() == sum("coordinates" in p for p in records()) >= posts.count() // 3
    assert all(in_area(p.latitude, p.longitude) for p in located)

    # The burst around the false stabbing claim, measured in the posts' own time.
    spike = Spike.objects.get(operation=operation, watch__name=CARNIVAL_WATCH)
    assert dt.time(14, 30) <= spike.started_at.time() <= dt.time(15, 15)
    assert spike.peak >= 10

    stories = Story.objects.filter(operation=operation)
    candidates = [s for s in stories if s.candidate_since is not None]
    assert len(candidates) == 1
    rumour = candidates[0]
    told = " ".join(text for _, text, _ in rumour.phrasings).lower()
    assert "stabbing" in told and "parade" in told and rumour.size >= 30
    lost_child = [s for s in stories if "spider-man" in s.headline.lower()]
    closure = [s for s in stories if "dudley road" in s.headline.lower() and s.size >= 5]
    assert lost_child and max(count for s in lost_child for _, _, count in s.phrasings) >= 3
    assert closure and max(count for s in closure for _, _, count in s.phrasings) >= 3

    page = client_for("sgt.hughes").get(f"/stories/operations/{operation.pk}/board/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-spike-id="{spike.pk}"' in html
    assert f'data-story-id="{rumour.pk}"' in html and "possible rumour" in html
    board = json.loads(html.split('id="board-data" type="application/json">')[1].split("<")[0])
    assert board["map"]["outline"] == CARNIVAL_AREA and board["map"]["points"]
    assert any(n for series in board["volume"]["series"] for n in series["y"])
