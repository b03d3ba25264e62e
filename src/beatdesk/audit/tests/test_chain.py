"""The audit chain: verify passes on an honest log and names the row after each tampering."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from beatdesk.audit import chain
from beatdesk.audit.actions import Category, record_system
from beatdesk.audit.checkpoint import checkpoints_path, write_checkpoint
from beatdesk.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def sealed(events: list[AuditEvent]) -> list[AuditEvent]:
    """The events as the chain holds them once sealed (on SQLite they are sealed already)."""
    chain.seal()
    return list(AuditEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("sequence"))


@pytest.fixture
def log() -> list[AuditEvent]:
    with transaction.atomic():
        events = [
            record_system("test", Category.COLLECTION, f"event.{n}", justification=f"entry {n}")
            for n in range(1, 9)
        ]
    return sealed(events)


def tamper(sql: str, params: list[object] | None = None) -> None:
    """Change the table behind the application's back, as a database administrator could."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_append_only")
        cur.execute(sql, params or [])
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_append_only")


def verify_fails_at(sequence: int) -> str:
    with pytest.raises(CommandError) as err:
        call_command("audit", "verify")
    assert f"BROKEN at sequence {sequence}:" in str(err.value)
    return str(err.value)


def test_an_honest_chain_verifies(log, capsys):
    call_command("audit", "verify")
    assert "audit chain OK: 8 entries" in capsys.readouterr().out


def test_events_are_appended_in_order_each_linked_to_the_last(log):
    assert [e.sequence for e in log] == list(range(1, 9))
    assert log[0].prev_hash == chain.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(log, log[1:], strict=False))


def test_events_appended_together_continue_the_chain_one_per_object(log, capsys):
    from beatdesk.audit.actions import record_system_each

    with transaction.atomic():
        events = record_system_each(
            "test", Category.ALTERATION, "thing.done", list(log[:3]), justification="each"
        )
    events = sealed(events)
    assert [e.sequence for e in events] == [9, 10, 11]
    assert events[0].prev_hash == log[-1].hash
    assert [e.object_id for e in events] == [str(e.pk) for e in log[:3]]
    assert AuditEvent.objects.filter(action="thing.done").count() == 3
    call_command("audit", "verify")
    assert "audit chain OK: 11 entries" in capsys.readouterr().out


def test_appending_outside_a_transaction_is_refused(transactional_db):
    with pytest.raises(RuntimeError):
        record_system("test", Category.COLLECTION, "outside")


def test_an_edited_field_is_named(log):
    tamper("UPDATE audit_auditevent SET justification = 'nothing to see' WHERE sequence = 5")
    assert "edited" in verify_fails_at(5)


def test_a_deleted_row_is_named(log):
    tamper("DELETE FROM audit_auditevent WHERE sequence = 4")
    assert "missing" in verify_fails_at(4)


def test_an_inserted_row_is_named(log):
    # Make room after sequence 3 and insert a well-formed, correctly hashed forgery.
    tamper("UPDATE audit_auditevent SET sequence = sequence + 1000 WHERE sequence > 3")
    tamper("UPDATE audit_auditevent SET sequence = sequence - 999 WHERE sequence > 1000")
    third = AuditEvent.objects.get(sequence=3)
    forged = AuditEvent(
        sequence=4,
        occurred_at=third.occurred_at,
        actor_label="system:test",
        category="consultation",
        action="forged",
        prev_hash=third.hash,
    )
    forged.hash = chain.hash_of(forged)
    forged.save(force_insert=True)
    verify_fails_at(5)


def test_reordered_rows_are_named(log):
    tamper("UPDATE audit_auditevent SET sequence = 100 WHERE sequence = 3")
    tamper("UPDATE audit_auditevent SET sequence = 3 WHERE sequence = 4")
    tamper("UPDATE audit_auditevent SET sequence = 4 WHERE sequence = 100")
    verify_fails_at(3)


def test_a_truncated_tail_is_caught_by_the_signed_checkpoint(log):
    write_checkpoint()
    tamper("DELETE FROM audit_auditevent WHERE sequence > 6")
    assert "truncated" in verify_fails_at(7)


def test_a_chain_recomputed_from_scratch_is_caught_by_the_checkpoint(log):
    write_checkpoint()
    # Rewrite entry 2 and recompute every hash after it: the chain is consistent again.
    tamper("UPDATE audit_auditevent SET justification = 'rewritten' WHERE sequence = 2")
    prev = AuditEvent.objects.get(sequence=1).hash
    for event in AuditEvent.objects.filter(sequence__gte=2).order_by("sequence"):
        event.prev_hash = prev
        event.hash = chain.hash_of(event)
        tamper(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE sequence = %s",
            [event.prev_hash, event.hash, event.sequence],
        )
        prev = event.hash
    assert chain.verify_chain().ok  # without the checkpoint it would pass
    assert "rewritten" in verify_fails_at(8)


def test_a_forged_checkpoint_is_refused(log):
    write_checkpoint()
    path = checkpoints_path()
    data = json.loads(path.read_text())
    data["sequence"] = 3
    path.write_text(json.dumps(data) + "\n")
    with pytest.raises(CommandError, match="bad signature"):
        call_command("audit", "verify")


def test_verify_json_reports_the_broken_sequence(log, capsys):
    tamper("UPDATE audit_auditevent SET action = 'x' WHERE sequence = 2")
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["broken_sequence"] == 2


def test_personal_data_enters_the_chain_only_as_a_digest(db):
    with transaction.atomic():
        event = record_system(
            "test", Category.COLLECTION, "message.stored", payload="Call me on 07700 900123"
        )
    row = AuditEvent.objects.filter(pk=event.pk).values().get()
    assert "07700" not in json.dumps(row, default=str)
    assert len(event.payload_digest) == 64


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_on_postgresql_the_application_cannot_update_or_delete_audit_rows(log):
    from django.db import InternalError, ProgrammingError

    for sql in (
        "UPDATE audit_auditevent SET action = 'x' WHERE sequence = 1",
        "DELETE FROM audit_auditevent WHERE sequence = 1",
    ):
        with (
            pytest.raises((InternalError, ProgrammingError)) as err,
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql)
        assert "append-only" in str(err.value)


def test_an_object_id_too_long_for_the_column_is_refused_on_every_database():
    with pytest.raises(ValueError, match="object_id longer than 64"), transaction.atomic():
        chain.append(
            actor_id=None,
            actor_label="system:test",
            category="collection",
            action="thing.did",
            object_type="stories.story",
            object_id=",".join(str(i) for i in range(40)),
        )


def test_a_sealed_event_unsealed_and_edited_is_named_where_it_was(log):
    # Made to look unsealed so the sealer would chain the edited row again, at the end.
    tamper(
        "UPDATE audit_auditevent SET sequence = NULL, justification = 'moved' WHERE sequence = 4"
    )
    assert "missing" in verify_fails_at(4)


def test_the_last_event_unsealed_edited_and_sealed_again_differs_from_its_checkpoint(log):
    write_checkpoint()
    tamper(
        "UPDATE audit_auditevent SET sequence = NULL, prev_hash = '', hash = '',"
        " justification = 'changed' WHERE sequence = 8"
    )
    verify_fails_at(8)
