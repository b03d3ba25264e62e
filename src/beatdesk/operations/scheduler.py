"""The periodic work, and the one process that hands it to the workers.

PERIODIC is the one table of periodic jobs: waking snoozed messages, escalating missed
response targets, auto-assign, recovering stuck posts, appeal reminders, scheduled posts,
reach snapshots, fetching every account, watch collection, the retention purge and audit
checkpoints. Each has an interval in settings.BEATDESK_PERIODIC_SECONDS (env
BEATDESK_EVERY_<NAME>_SECONDS).

`beatdesk scheduler` hands each job, when due, to the background workers as the
`run_periodic` task (django_tasks: the database queue, or RQ's "default" queue when
BEATDESK_TASKS=rq). `beatdesk poll` runs the same table inline in its own process, for the
small single-machine install with no worker.

The lock is a lease row in the database (SchedulerLease), not a PostgreSQL advisory lock:
it works the same on SQLite and PostgreSQL, needs no connection held open, and its row is
the scheduler's heartbeat that /healthz reads. The holder renews it every
BEATDESK_SCHEDULER_RENEW_SECONDS with a conditional UPDATE (holder = me, or the lease has
expired); a standby tries the same UPDATE and so takes over once the holder has not renewed
for BEATDESK_SCHEDULER_LEASE_SECONDS. A holder that fails to renew stops handing out work at
once. RQ's own scheduler (rq-scheduler, RQ's cron) keeps its schedule and lock in Redis, so
it cannot serve the database backend; the job table and the lock are therefore ours.

No pile-up: a job is handed over only when its last run (PeriodicRun) has finished, or was
handed over longer than BEATDESK_SCHEDULER_LOST_SECONDS ago (a lost job); the claim is a
conditional UPDATE, so two schedulers never both hand over the same run. Each job is safe
to run twice: waking and escalation are conditional updates, auto-assign and the post
recovery work under row locks, sends are claimed by the sender, fetches resume from the
account's cursor, and checkpoints only sign the chain's head again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, close_old_connections, transaction
from django.db.models import F, Q
from django_tasks import task

from beatdesk.audit.checkpoint import write_checkpoint
from beatdesk.core.clock import now
from beatdesk.core.models import PeriodicRun, SchedulerLease
from beatdesk.core.tasks import hand_on
from beatdesk.inbox.work import do_auto_assign, do_escalate_breaches, wake_snoozed
from beatdesk.live.reach import take_snapshots
from beatdesk.monitoring.actions import purge_expired_operations
from beatdesk.monitoring.collect import collect_due_watches
from beatdesk.networks.actions import do_fetch, fetchable_accounts
from beatdesk.publishing.actions import do_remind_due_appeals
from beatdesk.publishing.delivery import recover_stuck_posts
from beatdesk.publishing.tasks import send_due_posts

logger = logging.getLogger(__name__)

LEASE = "scheduler"


def _wake_snoozed() -> str:
    return f"{wake_snoozed()} woken"


def _escalate() -> str:
    return f"{do_escalate_breaches()} escalated"


def _auto_assign() -> str:
    return f"{do_auto_assign()} assigned"


def _recover_posts() -> str:
    return f"{recover_stuck_posts()} recovered"


def _appeal_reminders() -> str:
    return f"{do_remind_due_appeals()} reminded"


def _scheduled_posts() -> str:
    return f"{send_due_posts()} handed to send"


def _reach() -> str:
    return f"{take_snapshots()} snapshots"


def _fetch_accounts() -> str:
    lines = []
    for account in fetchable_accounts():
        outcome = do_fetch(account)
        if outcome.status != "waiting":
            lines.append(
                f"{account}: {outcome.status}"
                + (f", {outcome.fetched} fetched, {outcome.stored} new" if outcome.fetched else "")
                + (f" ({outcome.detail})" if outcome.detail else "")
            )
    return "\n".join(lines)


def _collect_watches() -> str:
    return "\n".join(
        f"watch {w.watch}: {w.status}, {w.stored} new" + (f" ({w.detail})" if w.detail else "")
        for w in collect_due_watches()
        if w.status != "waiting"
    )


def _purge() -> str:
    return f"{len(purge_expired_operations())} operations purged"


def _checkpoint() -> str:
    cp = write_checkpoint()
    return f"checkpoint at {cp.sequence}" if cp else "no audit events yet"


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], str]

    @property
    def every(self) -> dt.timedelta:
        """settings.BEATDESK_PERIODIC_SECONDS holds every job's interval and its default."""
        return dt.timedelta(seconds=settings.BEATDESK_PERIODIC_SECONDS[self.name])


PERIODIC: tuple[Job, ...] = (
    Job("wake_snoozed", _wake_snoozed),
    Job("escalate", _escalate),
    Job("auto_assign", _auto_assign),
    Job("recover_posts", _recover_posts),
    Job("appeal_reminders", _appeal_reminders),
    Job("scheduled_posts", _scheduled_posts),
    Job("reach", _reach),
    Job("fetch_accounts", _fetch_accounts),
    Job("collect_watches", _collect_watches),
    Job("purge", _purge),
    Job("audit_checkpoint", _checkpoint),
)
JOBS = {job.name: job for job in PERIODIC}


def run_job(job: Job) -> str:
    """Run one job here and now, noting its start and end."""
    PeriodicRun.objects.get_or_create(name=job.name)
    PeriodicRun.objects.filter(name=job.name).update(started_at=now())
    try:
        said = job.run()
    except Exception as exc:
        PeriodicRun.objects.filter(name=job.name).update(
            finished_at=now(), error=f"{type(exc).__name__}: {exc}"[:500]
        )
        raise
    PeriodicRun.objects.filter(name=job.name).update(finished_at=now(), error="")
    return said


@task()
def run_periodic(name: str) -> str:
    """One periodic job, run by a worker (handed over by `beatdesk scheduler`)."""
    job = JOBS.get(name)
    if job is None:
        return f"no periodic job {name!r}"
    said = run_job(job)
    logger.info("periodic job %s: %s", name, said or "done")
    return said


def _claim(job: Job, at: dt.datetime) -> bool:
    """Mark the job handed over now, if it is due and its last run is not still queued or
    running. A conditional UPDATE: of two callers, one wins."""
    PeriodicRun.objects.get_or_create(name=job.name)
    lost = at - dt.timedelta(seconds=settings.BEATDESK_SCHEDULER_LOST_SECONDS)
    free = (
        Q(enqueued_at__isnull=True) | Q(finished_at__gte=F("enqueued_at")) | Q(enqueued_at__lt=lost)
    )
    due = Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=at - job.every)
    return bool(
        PeriodicRun.objects.filter(free, due, name=job.name).update(
            enqueued_at=at, started_at=None, finished_at=None
        )
    )


def enqueue_due(at: dt.datetime | None = None) -> list[str]:
    """Hand every due job that is not already queued or running to the workers."""
    at = at or now()
    handed = []
    for job in PERIODIC:
        with transaction.atomic():
            if _claim(job, at):
                if not hand_on(run_periodic, job.name):
                    # The queue is away: undo the claim, so the job is handed out once it is
                    # back (hand_on has logged why).
                    transaction.set_rollback(True)
                    continue
                handed.append(job.name)
    return handed


class Lease:
    """This process's hold (or wait) on the scheduler lease."""

    def __init__(self) -> None:
        self.holder = f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def renew(self) -> bool:
        """Take or keep the lease; True while this process holds it."""
        at = now()
        expires = at + dt.timedelta(seconds=settings.BEATDESK_SCHEDULER_LEASE_SECONDS)
        mine = dict(beat_at=at, expires_at=expires)
        if SchedulerLease.objects.filter(name=LEASE, holder=self.holder).update(**mine):
            return True
        taken = SchedulerLease.objects.filter(name=LEASE, expires_at__lt=at).update(
            holder=self.holder,
            host=socket.gethostname()[:200],
            pid=os.getpid(),
            acquired_at=at,
            **mine,
        )
        if taken:
            return True
        try:
            with transaction.atomic():
                SchedulerLease.objects.create(
                    name=LEASE,
                    holder=self.holder,
                    host=socket.gethostname()[:200],
                    pid=os.getpid(),
                    acquired_at=at,
                    **mine,
                )
        except IntegrityError:
            return False  # another scheduler holds it
        return True

    def release(self) -> None:
        SchedulerLease.objects.filter(name=LEASE, holder=self.holder).delete()


def holder() -> SchedulerLease | None:
    return SchedulerLease.objects.filter(name=LEASE).first()


def serve(say: Callable[[str], Any], *, once: bool = False) -> None:
    """`beatdesk scheduler`: hold the lease (or stand by) and hand due jobs to the workers."""
    lease = Lease()
    holding: bool | None = None
    try:
        while True:
            close_old_connections()
            try:
                held = lease.renew()
            except Exception as exc:  # the database is away: hand out nothing, try again
                logger.warning("cannot renew the scheduler lease: %s", exc)
                held = False
            if held != holding:
                holding = held
                if held:
                    say(f"scheduler {lease.holder}: holds the lock, handing out periodic jobs")
                else:
                    try:
                        current = str(holder())
                    except DatabaseError:
                        current = "the database is away; nobody"
                    say(f"scheduler {lease.holder}: stands by ({current} holds the lock)")
            if held:
                try:
                    for name in enqueue_due():
                        logger.info("handed %s to the workers", name)
                except DatabaseError as exc:  # away since the renewal: try again next round
                    logger.warning("cannot hand out periodic jobs: %s", exc)
            if once:
                return
            time.sleep(settings.BEATDESK_SCHEDULER_RENEW_SECONDS)
    finally:
        try:
            lease.release()
        except Exception:  # stopping with the database away: the lease simply expires
            logger.warning("could not release the scheduler lease; it expires by itself")


def run_inline(say: Callable[[str], Any], *, every: float, once: bool, verbose: bool) -> None:
    """`beatdesk poll`: run the table in this process — every job each round with --once,
    else each job when its interval has passed, a round every `every` seconds.

    Run for good, it holds the scheduler's lease like `beatdesk scheduler`: with a
    scheduler (or another poll) running, it stands by rather than running every job twice,
    and its renewals are the heartbeat /healthz reads. `--once` runs regardless, as asked."""
    last: dict[str, float] = {}
    lease = None if once else Lease()
    holding: bool | None = None
    try:
        while True:
            close_old_connections()
            if lease is not None:
                try:
                    held = lease.renew()
                except DatabaseError as exc:  # the database is away: run nothing, try again
                    logger.warning("cannot renew the scheduler lease: %s", exc)
                    held = False
                if held != holding:
                    holding = held
                    say(
                        f"poll {lease.holder}: holds the lock, running periodic jobs"
                        if held
                        else f"poll {lease.holder}: stands by (another scheduler holds the lock)"
                    )
                if not held:
                    time.sleep(every)
                    continue
            _run_due(say, last, once=once, verbose=verbose)
            if once:
                return
            time.sleep(every)
    finally:
        if lease is not None:
            try:
                lease.release()
            except DatabaseError:  # stopping with the database away: the lease expires
                logger.warning("could not release the scheduler lease; it expires by itself")


def _run_due(
    say: Callable[[str], Any], last: dict[str, float], *, once: bool, verbose: bool
) -> None:
    for job in PERIODIC:
        moment = time.monotonic()
        if not once and job.name in last and moment - last[job.name] < job.every.total_seconds():
            continue
        last[job.name] = moment
        try:
            said = run_job(job)
        except Exception:  # noqa: BLE001 - one failing job must not stop the others
            logger.exception("periodic job %s failed; it runs again next interval", job.name)
            close_old_connections()
            continue
        if said and (verbose or job.name in {"fetch_accounts", "collect_watches"}):
            say(said)
