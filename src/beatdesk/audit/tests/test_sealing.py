"""Writers append without waiting on one another; the sealer chains what has committed.

On PostgreSQL, in real transactions on separate connections: an open transaction holding an
event does not hold up another writer, ids that commit out of order and ids of rolled-back
transactions still give one unbroken chain, many concurrent writers all end chained, and
`audit verify` reports the unsealed tail rather than hiding it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import InternalError, ProgrammingError, connection, connections, transaction

from beatdesk.audit import chain
from beatdesk.audit.actions import Category, record_system
from beatdesk.audit.models import AuditEvent

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]


@pytest.fixture(autouse=True)
def _seal_after_every_write(settings):
    """These tests follow the writer's own seal after each commit; the throttle has its own."""
    settings.BEATDESK_AUDIT_SEAL_EVERY_SECONDS = 0


def test_a_writer_seals_at_most_once_a_second_and_the_rest_waits_for_the_next_sealer(settings):
    settings.BEATDESK_AUDIT_SEAL_EVERY_SECONDS = 60
    chain._last_writer_seal = 0.0
    write("first")
    write("second")
    assert list(AuditEvent.objects.order_by("id").values_list("action", "sequence")) == [
        ("first", 1),
        ("second", None),  # written within the interval: left for the next sealer
    ]
    assert verify_json("--no-seal")["unsealed"] == 1
    assert verify_json()["ok"] and verify_json()["unsealed"] == 0  # verify seals first


def in_thread(work: Callable[[], None]) -> threading.Thread:
    """Run `work` on a connection of its own, as another process's writer would."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            failures.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.failures = failures  # type: ignore[attr-defined]
    thread.start()
    return thread


def joined(thread: threading.Thread, timeout: float = 30) -> None:
    thread.join(timeout)
    assert not thread.is_alive(), "a writer waited on another writer"
    assert not thread.failures, thread.failures  # type: ignore[attr-defined]


def write(action: str, count: int = 1) -> list[AuditEvent]:
    with transaction.atomic():
        return [record_system("test", Category.COLLECTION, action) for _ in range(count)]


def verify_json(*args: str) -> dict[str, object]:
    from io import StringIO

    out = StringIO()
    call_command("audit", "verify", "--json", *args, stdout=out)
    report: dict[str, object] = json.loads(out.getvalue())
    return report


@contextmanager
def sealing_lock_held() -> Iterator[None]:
    """Another sealer holding the lock, as while it seals a long batch."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", [chain._PG_LOCK_KEY])
            taken.set()
            release.wait(30)
            cur.execute("SELECT pg_advisory_unlock(%s)", [chain._PG_LOCK_KEY])

    holder = in_thread(hold)
    assert taken.wait(10)
    try:
        yield
    finally:
        release.set()
        joined(holder)


def test_an_event_is_sealed_just_after_its_transaction_commits():
    [event] = write("thing.done")
    event.refresh_from_db()
    assert event.sequence == 1 and event.prev_hash == chain.GENESIS
    assert event.hash == chain.hash_of(event)
    assert verify_json("--no-seal")["unsealed"] == 0


def test_a_writer_does_not_wait_for_another_writers_open_transaction():
    opened, finish = threading.Event(), threading.Event()
    early: list[AuditEvent] = []

    def slow_writer() -> None:
        with transaction.atomic():
            early.append(record_system("test", Category.COLLECTION, "slow"))
            opened.set()
            finish.wait(30)

    slow = in_thread(slow_writer)
    assert opened.wait(10)
    fast = in_thread(lambda: write("fast") and None)
    joined(fast, timeout=10)  # committed and sealed while the slow one is still open
    finish.set()
    joined(slow)
    call_command("audit", "seal")
    first, second = AuditEvent.objects.order_by("sequence")
    # The slow writer took the lower id but committed second: the chain follows commits.
    assert (first.action, second.action) == ("fast", "slow")
    assert second.pk == early[0].pk and second.pk < first.pk
    report = verify_json()
    assert report["ok"] and report["checked"] == 2 and report["unsealed"] == 0


def test_a_rolled_back_transaction_leaves_a_gap_in_ids_but_none_in_the_chain():
    write("before")
    with pytest.raises(RuntimeError), transaction.atomic():
        record_system("test", Category.COLLECTION, "rolled.back")
        raise RuntimeError("the change failed")
    write("after")
    ids = list(AuditEvent.objects.order_by("sequence").values_list("id", "sequence", "action"))
    assert [row[1:] for row in ids] == [(1, "before"), (2, "after")]
    assert ids[1][0] - ids[0][0] == 2  # the rolled-back event's id is never used
    assert verify_json()["ok"]


def test_many_concurrent_writers_all_end_in_one_verified_chain():
    writers, transactions = 4, 25

    def writer(n: int) -> Callable[[], None]:
        def run() -> None:
            for t in range(transactions):
                write(f"writer.{n}", count=1 + t % 3)

        return run

    threads = [in_thread(writer(n)) for n in range(writers)]
    for thread in threads:
        joined(thread, timeout=120)
    total = writers * sum(1 + t % 3 for t in range(transactions))
    assert AuditEvent.objects.count() == total
    report = verify_json()
    assert report == {**report, "ok": True, "checked": total, "unsealed": 0}
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, total + 1))


def test_verify_reports_the_unsealed_tail_and_seals_it_unless_told_not_to():
    write("sealed.first")
    with sealing_lock_held():
        write("waiting", count=3)  # its own try to seal finds the lock taken
        assert chain.seal(wait=False) == 0
    report = verify_json("--no-seal")
    assert report["ok"] and report["checked"] == 1
    assert report["unsealed"] == 3 and report["oldest_unsealed_at"]
    report = verify_json()
    assert report["ok"] and report["checked"] == 4 and report["unsealed"] == 0


def test_verify_says_in_words_how_many_events_are_not_yet_sealed(capsys):
    write("sealed.first")
    with sealing_lock_held():
        write("waiting", count=2)
    call_command("audit", "verify", "--no-seal")
    out = capsys.readouterr().out
    assert "audit chain OK: 1 entries" in out
    assert "2 event(s) not yet sealed" in out


def test_the_trigger_lets_sealing_through_once_and_nothing_else():
    with sealing_lock_held():
        [unsealed] = write("waiting")
    refused = [
        # Sealing and editing at once.
        "UPDATE audit_auditevent SET sequence = 1, hash = 'x', action = 'forged' WHERE id = %s",
        # An unsealed event edited without sealing.
        "UPDATE audit_auditevent SET action = 'forged' WHERE id = %s",
    ]
    for sql in refused:
        with (
            pytest.raises((InternalError, ProgrammingError), match="append-only"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql, [unsealed.pk])
    assert chain.seal() == 1
    with (
        pytest.raises((InternalError, ProgrammingError), match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("UPDATE audit_auditevent SET sequence = 7 WHERE id = %s", [unsealed.pk])
    assert verify_json()["ok"]
