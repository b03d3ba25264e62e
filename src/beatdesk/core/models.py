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
