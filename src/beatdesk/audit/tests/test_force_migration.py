"""Migration audit 0004 gives events written before it their actor's force, through the
append-only trigger on PostgreSQL, and the chain still verifies afterwards."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from beatdesk.audit import chain
from beatdesk.audit.models import AuditEvent
from beatdesk.demo.seed import seed

BEFORE = [("audit", "0003_unsealed_events")]
AFTER = [("audit", "0004_event_force")]


def _migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_existing_events_take_their_actors_force_and_the_chain_verifies() -> None:
    force = seed()
    dana = force.users.get(username="dana.desk")
    _migrate(BEFORE)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        OldEvent = old.get_model("audit", "AuditEvent")
        with transaction.atomic():
            at, last = chain.now(), chain.head()
            rows = [
                OldEvent(occurred_at=at, actor_id=dana.pk, actor_label=f"user:{dana.pk}",
                         category="consultation", action="old.by_a_person"),
                OldEvent(occurred_at=at, actor_id=None, actor_label="system:test",
                         category="collection", action="old.by_the_system"),
            ]  # fmt: skip
            sequence, prev = last
            for row in rows:
                sequence += 1
                row.sequence, row.prev_hash = sequence, prev
                row.hash = prev = chain.hash_of(row)
            OldEvent.objects.bulk_create(rows)
    finally:
        _migrate(AFTER)
    by_person = AuditEvent.objects.get(action="old.by_a_person")
    by_system = AuditEvent.objects.get(action="old.by_the_system")
    assert by_person.force_id == force.pk
    assert by_system.force_id is None
    assert chain.verify_chain().ok
