"""The workers' own bookkeeping (no police data)."""

from __future__ import annotations

from django.db import models


class WorkerBeat(models.Model):
    """A running `beatdesk worker`: it beats while alive. A worker that stops beating is
    gone, and the sweeper gives the work it left running to the others."""

    worker_id = models.CharField(max_length=64, unique=True)
    host = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    backend = models.CharField(max_length=16, help_text="database or rq")
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"worker {self.worker_id} on {self.host} (pid {self.pid})"


class SchedulerLease(models.Model):
    """Who runs the periodic work: one row per lease name, held by one `beatdesk scheduler`
    until it stops renewing (operations/scheduler.py)."""

    name = models.CharField(max_length=32, unique=True)
    holder = models.CharField(max_length=64)
    host = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    acquired_at = models.DateTimeField()
    beat_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"scheduler {self.holder} on {self.host} (pid {self.pid})"


class PeriodicRun(models.Model):
    """The last run of one periodic job: when it was handed to the workers, started and
    finished. A job is not handed over again while its last run is still queued or running."""

    name = models.CharField(max_length=64, unique=True)
    enqueued_at = models.DateTimeField(null=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    error = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"periodic job {self.name}"
