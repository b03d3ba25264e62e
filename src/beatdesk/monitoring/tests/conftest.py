"""Shared helpers for the monitoring tests: an operation and watches in any state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from beatdesk.accounts.models import Force, User
from beatdesk.core.clock import now
from beatdesk.monitoring.models import Operation, Watch


@pytest.fixture
def operation(force: Force, users: dict[str, User]) -> Operation:
    return Operation.objects.create(
        force=force,
        name="Op Lantern",
        description="Westmere Carnival weekend",
        owner=users["sgt.hughes"],
        retention_until=now() + dt.timedelta(days=60),
    )


@pytest.fixture
def make_watch(operation: Operation, users: dict[str, User]) -> Callable[..., Watch]:
    """An approved watch that is collecting now, unless told otherwise."""

    def _make(**fields: Any) -> Watch:
        at = now()
        values: dict[str, Any] = {
            "operation": operation,
            "name": f"watch {Watch.objects.count() + 1}",
            "network": "replay",
            "kind": "hashtag",
            "query": "#WestmereCarnival",
            "purpose": "Crowd safety and disorder at the carnival",
            "owner": users["dana.desk"],
            "created_by": users["dana.desk"],
            "starts_at": at - dt.timedelta(hours=1),
            "expires_at": at + dt.timedelta(days=3),
            "status": Watch.Status.ACTIVE,
            "approved_by": users["sgt.hughes"],
            "approved_at": at,
        }
        values.update(fields)
        return Watch.objects.create(**values)

    return _make
