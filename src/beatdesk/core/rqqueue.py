"""Under RQ every beatdesk job is retried (django-tasks-rq creates jobs without a Retry), and
the worker opens each job on a usable database connection.

A job that raises, or that a killed worker abandoned (RQ 3's StartedJobRegistry cleanup
re-queues an abandoned job while it has retries left), runs again after 10, 30 and 60 s.
Triage and clustering skip what is already done under a row lock, so a retry never reads
a message twice.
"""

from __future__ import annotations

from typing import Any

from django.db import close_old_connections
from django_rq.queues import DjangoRQ
from rq import Retry
from rq.job import Job
from rq.queue import Queue
from rq.worker import SimpleWorker

RETRY = {"max": 3, "interval": [10, 30, 60]}


class RetryingQueue(DjangoRQ):
    def create_job(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("retry") is None:
            kwargs["retry"] = Retry(**RETRY)  # type: ignore[arg-type]
        return super().create_job(*args, **kwargs)


class Worker(SimpleWorker):
    """RQ's in-process worker, with Django's connection hygiene around each job, as a web
    request has: a connection the database cut (PostgreSQL restarted) is dropped before the
    next job instead of failing every job after it with "the connection is closed"."""

    def execute_job(self, job: Job, queue: Queue) -> None:
        close_old_connections()
        try:
            super().execute_job(job, queue)
        finally:
            close_old_connections()
