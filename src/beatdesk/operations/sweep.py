"""The workers' sweeper: nothing stored is left unread.

A message is stored before anything else happens to it, and its reading is handed to the
background workers once the transaction commits. That hand-over can be lost: a worker
killed mid-task, Redis restarted with jobs queued, a process stopped between commit and
enqueue. Every `beatdesk worker` therefore beats (WorkerBeat) and, while it is the oldest
live worker, sweeps every BEATDESK_SWEEP_EVERY_SECONDS what has waited longer than
BEATDESK_SWEEP_GRACE_SECONDS:

- tasks left RUNNING (database queue) by a worker that stopped beating: failed with the
  reason, and run again when the task is safe to repeat;
- payloads still `received`: normalised and stored, or made dead letters with the reason;
- messages not triaged or not routed: handed to the workers again;
- triaged messages and watch posts in no story (clustering or spike counting failed):
  clustered again by `stories.tasks`.

Each step can be repeated: triage skips a message already read (under a row lock), and
clustering skips a post already in a story. What is still queued is not queued twice, and
what keeps failing is retried with growing waits (doubling from the grace period to an hour).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import Exists, Min, OuterRef, Q, QuerySet
from django_tasks.base import Task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from beatdesk.audit.actions import Category, id_range, record_system
from beatdesk.core.clock import now
from beatdesk.core.models import WorkerBeat
from beatdesk.core.tasks import backend_errors, hand_on
from beatdesk.inbox.actions import do_read_stranded
from beatdesk.inbox.models import InboundPayload, Message
from beatdesk.inbox.tasks import process_messages
from beatdesk.monitoring.models import WatchPost
from beatdesk.stories.models import StoryMember
from beatdesk.stories.tasks import recluster_messages, recluster_watch_posts

logger = logging.getLogger(__name__)

TRIAGE_TASKS = frozenset(
    {"beatdesk.inbox.tasks.process_message", "beatdesk.inbox.tasks.process_messages"}
)
CLUSTER_MESSAGE_TASKS = frozenset({"beatdesk.stories.tasks.recluster_messages"})
CLUSTER_WATCH_TASKS = frozenset({"beatdesk.stories.tasks.recluster_watch_posts"})
# Tasks a dead worker left running that are run again: each skips work already done.
RERUNNABLE = (
    TRIAGE_TASKS
    | CLUSTER_MESSAGE_TASKS
    | CLUSTER_WATCH_TASKS
    | {"beatdesk.triage.tasks.reread_abuse"}
)
# A task whose worker never beat (an old worker, `db_worker` run by hand) counts as
# abandoned only after this long.
UNKNOWN_WORKER_TIMEOUT = dt.timedelta(hours=1)
# Triaged messages and watch posts older than this are not looked at for clustering.
CLUSTER_HORIZON = dt.timedelta(days=2)
BATCH = 500
MAX_WAIT = dt.timedelta(hours=1)


def grace() -> dt.timedelta:
    return dt.timedelta(seconds=settings.BEATDESK_SWEEP_GRACE_SECONDS)


def gone_after() -> dt.timedelta:
    return dt.timedelta(seconds=settings.BEATDESK_WORKER_GONE_SECONDS)


class WorkerLost(Exception):
    """The worker running a task stopped beating before the task finished."""


# --- workers' heartbeats ---------------------------------------------------------------------


def beat(worker_id: str, backend: str) -> None:
    at = now()
    updated = WorkerBeat.objects.filter(worker_id=worker_id).update(seen_at=at)
    if not updated:
        WorkerBeat.objects.create(
            worker_id=worker_id,
            host=socket.gethostname()[:200],
            pid=os.getpid(),
            backend=backend,
            started_at=at,
            seen_at=at,
        )


def forget(worker_id: str) -> None:
    """A worker stopping cleanly leaves no heartbeat behind."""
    WorkerBeat.objects.filter(worker_id=worker_id).delete()


def live_workers() -> QuerySet[WorkerBeat]:
    return WorkerBeat.objects.filter(seen_at__gte=now() - gone_after())


def is_sweeper(worker_id: str) -> bool:
    """One live worker sweeps at a time: the longest running one."""
    first = live_workers().order_by("started_at", "worker_id").values_list("worker_id").first()
    return first is not None and first[0] == worker_id


# --- what is waiting -------------------------------------------------------------------------


def unread_messages() -> QuerySet[Message]:
    """Messages stored but not yet triaged or not yet routed."""
    return Message.objects.filter(Q(triage__isnull=True) | Q(routed_at__isnull=True))


def received_payloads() -> QuerySet[InboundPayload]:
    """Deliveries stored raw whose reading never finished."""
    return InboundPayload.objects.filter(status=InboundPayload.Status.RECEIVED)


def unclustered_messages(since: dt.datetime) -> QuerySet[Message]:
    member = StoryMember.objects.filter(message=OuterRef("pk"))
    return Message.objects.filter(received_at__gte=since, triage__isnull=False).exclude(
        Exists(member)
    )


def unclustered_watch_posts(since: dt.datetime) -> QuerySet[WatchPost]:
    member = StoryMember.objects.filter(watch_post=OuterRef("pk"))
    return WatchPost.objects.filter(collected_at__gte=since).exclude(Exists(member))


def _uses_database_queue() -> bool:
    return isinstance(process_messages.get_backend(), DatabaseBackend)


def stale_running_tasks() -> list[DBTaskResult]:
    """Database-queue tasks RUNNING past the grace period whose worker is gone: it stopped
    beating, or never beat and the task has run for an hour."""
    at = now()
    running = list(
        DBTaskResult.objects.filter(status="RUNNING", started_at__lt=at - grace()).order_by(
            "started_at"
        )
    )
    if not running:
        return []
    beats = dict(WorkerBeat.objects.values_list("worker_id", "seen_at"))
    stale = []
    for result in running:
        worker = result.worker_ids[-1] if result.worker_ids else ""
        seen = beats.get(worker)
        if seen is None:
            if result.started_at and result.started_at < at - UNKNOWN_WORKER_TIMEOUT:
                stale.append(result)
        elif seen < at - gone_after():
            stale.append(result)
    return stale


def backlog() -> dict[str, int | None]:
    """What waits to be read, for `beatdesk status` and the channel health page."""
    at = now()
    horizon = at - CLUSTER_HORIZON
    oldest = unread_messages().aggregate(at=Min("received_at"))["at"]
    return {
        "oldest_unread_age_s": None if oldest is None else int((at - oldest).total_seconds()),
        "untriaged_messages": Message.objects.filter(triage__isnull=True).count(),
        "unrouted_messages": Message.objects.filter(routed_at__isnull=True).count(),
        "received_payloads": received_payloads().count(),
        "unclustered_messages": unclustered_messages(horizon).count(),
        "unclustered_watch_posts": unclustered_watch_posts(horizon).count(),
        "stale_running_tasks": len(stale_running_tasks()),
        "live_workers": live_workers().count(),
    }


def overdue() -> dict[str, int]:
    """Each backlog's items that have waited past the grace period: what the sweeper is
    there for. All zero is a desk where everything stored has been read."""
    at = now()
    cutoff, horizon = at - grace(), at - CLUSTER_HORIZON
    return {
        "unread_messages": unread_messages().filter(received_at__lt=cutoff).count(),
        "received_payloads": received_payloads().filter(received_at__lt=cutoff).count(),
        "unclustered_messages": unclustered_messages(horizon)
        .filter(triage__triaged_at__lt=cutoff)
        .count(),
        "unclustered_watch_posts": unclustered_watch_posts(horizon)
        .filter(collected_at__lt=cutoff)
        .count(),
        "stale_running_tasks": len(stale_running_tasks()),
    }


# --- what is already queued ------------------------------------------------------------------


def _first_arg_ids(args: Iterable[Any]) -> set[int]:
    args = list(args)
    if not args:
        return set()
    first = args[0]
    if isinstance(first, list):
        return {int(i) for i in first}
    return {int(first)}


def queued_ids(task_paths: frozenset[str]) -> set[int]:
    """The ids already waiting in, or running from, the queue for these tasks (by a live
    worker): they are not handed over again."""
    if _uses_database_queue():
        ids: set[int] = set()
        for args_kwargs in DBTaskResult.objects.filter(
            status__in=["READY", "RUNNING"], task_path__in=task_paths
        ).values_list("args_kwargs", flat=True):
            ids |= _first_arg_ids(args_kwargs.get("args", []))
        return ids
    if "django_tasks_rq" in settings.INSTALLED_APPS:
        return _rq_queued_ids(task_paths)
    return set()


def _rq_queued_ids(task_paths: frozenset[str]) -> set[int]:
    import django_rq
    from rq.job import Job
    from rq.registry import StartedJobRegistry

    live = set(live_workers().values_list("worker_id", flat=True))
    ids: set[int] = set()
    for name in settings.RQ_QUEUES:
        queue = django_rq.get_queue(name)
        started = StartedJobRegistry(queue=queue).get_job_ids()
        waiting = queue.get_job_ids()
        for job in Job.fetch_many([*waiting, *started], connection=queue.connection):
            if job is None or job.func_name not in task_paths:
                continue
            if job.id in started and job.worker_name not in live:
                continue  # its worker is gone: RQ will fail it later; read it now
            ids |= _first_arg_ids(job.args)
    return ids


# --- the sweep -------------------------------------------------------------------------------


@dataclass
class Swept:
    tasks_rerun: int = 0
    tasks_failed: int = 0
    payloads_stored: int = 0
    payloads_dead: int = 0
    messages_requeued: int = 0
    messages_reclustered: int = 0
    watch_posts_reclustered: int = 0

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


class Backoff:
    """When each item may be handed over again: waits double from the grace period."""

    def __init__(self) -> None:
        self._next: dict[tuple[str, int], tuple[int, dt.datetime]] = {}

    def due(self, kind: str, ids: Iterable[int], at: dt.datetime) -> list[int]:
        return [i for i in ids if (kind, i) not in self._next or self._next[(kind, i)][1] <= at]

    def tried(self, kind: str, ids: Iterable[int], at: dt.datetime) -> None:
        for i in ids:
            attempts = self._next.get((kind, i), (0, at))[0]
            wait = min(grace() * (2**attempts), MAX_WAIT)
            self._next[(kind, i)] = (attempts + 1, at + wait)

    def keep_only(self, kind: str, waiting: set[int]) -> None:
        for key in [k for k in self._next if k[0] == kind and k[1] not in waiting]:
            del self._next[key]


_BACKOFF = Backoff()


def sweep(backoff: Backoff | None = None) -> Swept:
    """One round of every step (safe to run at any time, from any process)."""
    backoff = backoff or _BACKOFF
    swept = Swept()
    at = now()
    cutoff = at - grace()
    if _uses_database_queue():
        _rerun_stale_tasks(swept)
    _read_stranded_payloads(cutoff, swept)
    swept.messages_requeued = _hand_over(
        "triage",
        list(
            unread_messages()
            .filter(received_at__lt=cutoff)
            .order_by("received_at")
            .values_list("pk", flat=True)[: BATCH * 4]
        ),
        TRIAGE_TASKS,
        process_messages,
        backoff,
        at,
    )
    horizon = at - CLUSTER_HORIZON
    swept.messages_reclustered = _hand_over(
        "messages-clustering",
        list(
            unclustered_messages(horizon)
            .filter(triage__triaged_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        ),
        CLUSTER_MESSAGE_TASKS,
        recluster_messages,
        backoff,
        at,
    )
    swept.watch_posts_reclustered = _hand_over(
        "watch-clustering",
        list(
            unclustered_watch_posts(horizon)
            .filter(collected_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        ),
        CLUSTER_WATCH_TASKS,
        recluster_watch_posts,
        backoff,
        at,
    )
    if swept:
        logger.warning("sweeper: %s", swept)
    return swept


def _hand_over(
    kind: str,
    waiting: list[int],
    task_paths: frozenset[str],
    handed: Task[Any, Any],
    backoff: Backoff,
    at: dt.datetime,
) -> int:
    backoff.keep_only(kind, set(waiting))
    if not waiting:
        return 0
    try:
        queued = queued_ids(task_paths)
    except backend_errors() as exc:
        # The queue's backend is out: nothing can be handed on now; the next round tries.
        logger.warning("sweeper: cannot see the %s queue (%s); trying again later", kind, exc)
        return 0
    due = backoff.due(kind, [pk for pk in waiting if pk not in queued], at)
    if not due:
        return 0
    with transaction.atomic():
        record_system(
            "sweeper",
            Category.ALTERATION,
            f"{kind}.requeued",
            object_type="inbox.message" if kind != "watch-clustering" else "monitoring.watchpost",
            object_id=id_range(due),
            justification=f"{len(due)} waited more than {grace().total_seconds():g} s unread",
            payload=due,
        )
        for start in range(0, len(due), BATCH):
            chunk = due[start : start + BATCH]
            transaction.on_commit(lambda chunk=chunk: hand_on(handed, chunk))  # type: ignore[misc]
    backoff.tried(kind, due, at)
    return len(due)


def _read_stranded_payloads(cutoff: dt.datetime, swept: Swept) -> None:
    stranded = (
        received_payloads()
        .filter(received_at__lt=cutoff)
        .select_related("account")
        .order_by("pk")[:BATCH]
    )
    for payload in stranded:
        result = do_read_stranded(payload)
        if result.status == InboundPayload.Status.FAILED:
            swept.payloads_dead += 1
        else:
            swept.payloads_stored += 1


def _rerun_stale_tasks(swept: Swept) -> None:
    for result in stale_running_tasks():
        worker = result.worker_ids[-1] if result.worker_ids else "an unknown worker"
        reason = f"worker {worker} stopped while running this task"
        with transaction.atomic():
            # Only while it is still RUNNING: two sweepers never both take it.
            taken = DBTaskResult.objects.filter(pk=result.pk, status="RUNNING").update(
                status="FAILED",
                finished_at=now(),
                exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                traceback=reason,
            )
            if not taken:
                continue
            rerun = result.task_path in RERUNNABLE
            record_system(
                "sweeper",
                Category.ALTERATION,
                "task.rerun" if rerun else "task.abandoned",
                object_type="django_tasks_db.dbtaskresult",
                object_id=str(result.pk),
                justification=f"{result.task_path}: {reason}",
            )
            if rerun:
                task = result.task.using(queue_name=result.queue_name, priority=result.priority)
                # The database queue: the new row commits with the old one's failure.
                task.enqueue(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
        if rerun:
            swept.tasks_rerun += 1
        else:
            swept.tasks_failed += 1


# --- the loop in each worker -----------------------------------------------------------------


class Sweeper(threading.Thread):
    """Beside each `beatdesk worker`: beats, and sweeps while it is the oldest live worker."""

    def __init__(self, worker_id: str, backend: str) -> None:
        super().__init__(name="beatdesk-sweeper", daemon=True)
        self.worker_id, self.backend = worker_id, backend
        self.stopping = threading.Event()

    def run(self) -> None:
        every = max(1, settings.BEATDESK_SWEEP_EVERY_SECONDS)
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                close_old_connections()
                beat(self.worker_id, self.backend)
                if is_sweeper(self.worker_id):
                    sweep()
            except Exception:  # the worker goes on; the next round tries again
                logger.exception("the sweeper's round failed")
            finally:
                connections.close_all()
            self.stopping.wait(max(0.0, every - (time.monotonic() - started)))

    def stop(self) -> None:
        self.stopping.set()
        with contextlib.suppress(Exception):
            forget(self.worker_id)
            connections.close_all()


def start_sweeper(worker_id: str, backend: str) -> Sweeper:
    sweeper = Sweeper(worker_id, backend)
    beat(worker_id, backend)  # known from the start, before the first task is claimed
    sweeper.start()
    return sweeper
