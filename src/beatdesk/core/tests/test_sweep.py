"""The workers' sweeper: whatever was stored and then lost on its way to being read is read,
once, after the grace period. (The kill -9 tests with real processes are in
test_sweep_processes.py.)"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from beatdesk.audit.models import AuditEvent
from beatdesk.core.clock import now
from beatdesk.core.models import WorkerBeat
from beatdesk.inbox.actions import _store_payload
from beatdesk.inbox.models import InboundPayload, Message
from beatdesk.inbox.tasks import process_messages
from beatdesk.networks.models import NetworkAccount
from beatdesk.operations.sweep import Backoff, backlog, beat, is_sweeper, sweep
from beatdesk.stories import ingest
from beatdesk.stories.models import StoryMember
from beatdesk.stories.tasks import recluster_messages
from beatdesk.testing.fixtures import route, signed_in
from beatdesk.triage.actions import do_triage
from beatdesk.triage.models import Triage

pytestmark = pytest.mark.django_db

KNIFE = "there's a man with a knife outside the Spar on Dudley Rd hurry!!"


@pytest.fixture(autouse=True)
def no_grace(settings):
    settings.BEATDESK_SWEEP_GRACE_SECONDS = 0


def _queued(task_path: str) -> list[list[int]]:
    return [
        r.args_kwargs["args"][0]
        for r in DBTaskResult.objects.filter(task_path=task_path, status="READY")
    ]


def test_a_message_whose_hand_over_was_lost_is_queued_once(
    deliver, django_capture_on_commit_callbacks
):
    # The test's transaction never commits: as if the process stopped before enqueueing.
    received = deliver({"id": "k-1", "text": KNIFE})
    assert not DBTaskResult.objects.exists()
    assert backlog()["untriaged_messages"] == 1
    backoff = Backoff()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep(backoff).messages_requeued == 1
    assert _queued("beatdesk.inbox.tasks.process_messages") == [[received.message_id]]
    assert AuditEvent.objects.filter(action="triage.requeued").count() == 1
    # Still queued: not handed over a second time, however often the sweeper passes.
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep(Backoff()).messages_requeued == 0
    do_triage([received.message_id])
    do_triage([received.message_id])  # a second delivery of the same task reads nothing
    assert Triage.objects.filter(message_id=received.message_id).count() == 1
    assert AuditEvent.objects.filter(action="messages.triaged").count() == 1
    assert AuditEvent.objects.filter(action="alert.raised").count() == 1
    assert backlog()["untriaged_messages"] == 0
    assert backlog()["oldest_unread_age_s"] is None


def test_what_keeps_failing_is_retried_with_growing_waits(
    deliver, django_capture_on_commit_callbacks
):
    received = deliver({"id": "k-2", "text": KNIFE})
    backoff = Backoff()
    with django_capture_on_commit_callbacks(execute=True):
        sweep(backoff)
    DBTaskResult.objects.update(status="FAILED")  # its triage failed
    with django_capture_on_commit_callbacks(execute=True):
        # Waits double from the grace period (0 here: the next round, then 0 × 2 …); with
        # a real grace the second try waits two grace periods.
        assert sweep(backoff).messages_requeued == 1
    assert backoff.due("triage", [received.message_id], now()) == [received.message_id]


def test_a_payload_left_received_is_normalised_or_made_a_dead_letter(force):
    replay = NetworkAccount.objects.get(force=force, kind="replay")
    good = _store_payload(replay, json.dumps({"id": "p-1", "text": KNIFE}))
    bad = _store_payload(replay, "not json")
    assert backlog()["received_payloads"] == 2
    swept = sweep(Backoff())
    assert (swept.payloads_stored, swept.payloads_dead) == (1, 1)
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.status == InboundPayload.Status.STORED and good.message is not None
    assert bad.status == InboundPayload.Status.FAILED and bad.error
    assert backlog()["received_payloads"] == 0
    assert sweep(Backoff()).payloads_stored == 0  # nothing left to do


def test_a_task_left_running_by_a_dead_worker_runs_again(
    deliver, django_capture_on_commit_callbacks
):
    received = deliver({"id": "k-3", "text": KNIFE})
    other = deliver({"id": "k-4", "text": "thanks for finding my nan"})
    for worker, message_id in (("dead", received.message_id), ("alive", other.message_id)):
        result = process_messages.enqueue([message_id])
        task = DBTaskResult.objects.get(pk=result.id)
        task.claim(worker)
        beat(worker, "database")
    WorkerBeat.objects.filter(worker_id="dead").update(seen_at=now() - dt.timedelta(hours=1))
    assert backlog()["stale_running_tasks"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        swept = sweep(Backoff())
    assert swept.tasks_rerun == 1
    lost = DBTaskResult.objects.get(worker_ids=["dead"])
    assert lost.status == "FAILED" and "WorkerLost" in lost.exception_class_path
    assert _queued("beatdesk.inbox.tasks.process_messages") == [[received.message_id]]
    # The live worker's task is left alone, and its message is not queued twice.
    assert DBTaskResult.objects.get(worker_ids=["alive"]).status == "RUNNING"
    assert swept.messages_requeued == 0
    assert backlog()["stale_running_tasks"] == 0


def test_one_live_worker_sweeps_at_a_time(db):
    beat("first", "database")
    beat("second", "database")
    assert is_sweeper("first") and not is_sweeper("second")
    WorkerBeat.objects.filter(worker_id="first").update(seen_at=now() - dt.timedelta(hours=1))
    assert is_sweeper("second")


def test_a_clustering_failure_is_retried_not_only_logged(
    deliver, monkeypatch, django_capture_on_commit_callbacks
):
    real = ingest.do_cluster

    def broken(*args, **kwargs):
        raise RuntimeError("index corrupt")

    monkeypatch.setattr(ingest, "do_cluster", broken)
    received = deliver({"id": "k-5", "text": KNIFE})
    route(received.message_id)
    assert not StoryMember.objects.exists()
    assert backlog()["unclustered_messages"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep(Backoff()).messages_reclustered == 1
    assert _queued("beatdesk.stories.tasks.recluster_messages") == [[received.message_id]]
    with pytest.raises(RuntimeError):  # the retry fails loudly: the task is marked failed
        recluster_messages.call([received.message_id])
    monkeypatch.setattr(ingest, "do_cluster", real)
    recluster_messages.call([received.message_id])
    recluster_messages.call([received.message_id])  # twice: it joins one story once
    assert StoryMember.objects.filter(message_id=received.message_id).count() == 1
    assert backlog()["unclustered_messages"] == 0


def test_status_reports_the_oldest_unread_message_and_each_backlog(deliver, capsys):
    deliver({"id": "k-6", "text": KNIFE})
    call_command("status", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["oldest_unread_age_s"] >= 0
    assert data["untriaged_messages"] == data["unrouted_messages"] == 1
    for key in (
        "received_payloads",
        "unclustered_watch_posts",
        "unclustered_messages",
        "stale_running_tasks",
    ):
        assert data[key] == 0


def test_channel_health_shows_the_backlog_in_warning_and_all_read_when_clear(
    deliver, users, settings
):
    page = signed_in(users["dana.desk"])
    html = page.get("/networks/health/").content.decode()
    # Nothing waits, but with no worker alive nothing would be read: not "All read".
    assert 'data-backlog="no-worker"' in html and "No worker is running" in html
    assert 'data-backlog="clear"' not in html
    at = now()
    WorkerBeat.objects.create(
        worker_id="w1", host="h", pid=1, backend="database", started_at=at, seen_at=at
    )
    html = page.get("/networks/health/").content.decode()
    assert 'data-backlog="clear"' in html and 'data-backlog="no-worker"' not in html
    received = deliver({"id": "k-7", "text": KNIFE})
    html = page.get("/networks/health/").content.decode()
    assert 'data-backlog="waiting"' in html
    assert 'class="check-warn"' in html
    route(received.message_id)
    assert b'data-backlog="clear"' in page.get("/networks/health/").content
    assert Message.objects.get(pk=received.message_id).routed_at is not None
