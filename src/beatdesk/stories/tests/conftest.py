"""An operation with an approved watch, and a way to store what it collects."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from beatdesk.accounts.models import Force, User
from beatdesk.core.clock import now
from beatdesk.monitoring.actions import CollectedPost, do_store_posts
from beatdesk.monitoring.models import Operation, Watch


@pytest.fixture
def operation(force: Force, users: dict[str, User]) -> Operation:
    return Operation.objects.create(
        force=force,
        name="Op Lantern",
        description="Westmere Carnival weekend",
        owner=users["sgt.hughes"],
        retention_until=now() + dt.timedelta(days=60),
        area_outline=[[52.48, -1.90], [52.49, -1.88], [52.47, -1.87]],
    )


@pytest.fixture
def watch(operation: Operation, users: dict[str, User]) -> Watch:
    at = now()
    return Watch.objects.create(
        operation=operation,
        name="carnival",
        network="replay",
        kind="hashtag",
        query="#WestmereCarnival",
        purpose="Crowd safety and disorder at the carnival",
        owner=users["dana.desk"],
        created_by=users["dana.desk"],
        starts_at=at - dt.timedelta(hours=1),
        expires_at=at + dt.timedelta(days=3),
        status=Watch.Status.ACTIVE,
        approved_by=users["sgt.hughes"],
        approved_at=at,
    )


@pytest.fixture
def collect(watch: Watch, django_capture_on_commit_callbacks: Any) -> Callable[..., list[int]]:
    """Store posts as the watch's collector does; posts_collected fires as on commit."""
    counter = iter(range(1, 1_000_000))

    def _collect(items: list[tuple[str, dt.datetime]], **extra: Any) -> list[int]:
        posts = []
        for text, at in items:
            n = next(counter)
            posts.append(
                CollectedPost(
                    network="replay",
                    external_id=f"p{n}",
                    author_handle=f"@someone{n}",
                    text=text,
                    posted_at=at,
                    raw=json.dumps({"id": n, "text": text}),
                    language="en",
                    **extra,
                )
            )
        with django_capture_on_commit_callbacks(execute=True):
            return do_store_posts(watch, posts)

    return _collect
