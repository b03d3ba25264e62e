"""The demo force's operation: Op Lantern, the Westmere Carnival, with one approved watch."""

from __future__ import annotations

import datetime as dt

from beatdesk.accounts.models import Force, User
from beatdesk.core.clock import now
from beatdesk.monitoring.models import Operation, Watch

# Round Market Square, Westmere Town Centre (fictional, drawn for the board's map).
CARNIVAL_AREA = [[52.5146, -2.0862], [52.5151, -2.0790], [52.5102, -2.0774], [52.5093, -2.0851]]


def seed_operation(force: Force) -> Operation:
    supervisor = User.objects.get(force=force, username="sgt.hughes")
    desk = User.objects.get(force=force, username="dana.desk")
    at = now().replace(second=0, microsecond=0)
    operation = Operation.objects.create(
        force=force,
        name="Op Lantern — Westmere Carnival",
        description="The carnival weekend in the town centre: parade, crowds, road closures.",
        owner=supervisor,
        retention_until=at + dt.timedelta(days=90),
        area_outline=CARNIVAL_AREA,
    )
    Watch.objects.create(
        operation=operation,
        name="Carnival hashtag",
        network="replay",
        kind=Watch.Kind.HASHTAG,
        query="#WestmereCarnival",
        purpose="Crowd safety and public order at the carnival: spot crushes, disorder and "
        "rumours early, and answer them.",
        owner=desk,
        starts_at=at,
        expires_at=at + dt.timedelta(days=14),
        status=Watch.Status.ACTIVE,
        created_by=desk,
        approved_by=supervisor,
        approved_at=at,
        decision_reason="Proportionate for the carnival weekend.",
    )
    return operation
