"""Under RQ every beatdesk job is retried (django-tasks-rq creates jobs without a Retry).

A job that raises, or that a killed worker abandoned (RQ 3's StartedJobRegistry cleanup
re-queues an abandoned job while it has retries left), runs again after 10, 30 and 60 s.
Triage and clustering skip what is already done under a row lock, so a retry never reads
a message twice.
"""

from __future__ import annotations

from typing import Any

from django_rq.queues import DjangoRQ
from rq import Retry

RETRY = {"max": 3, "interval": [10, 30, 60]}


class RetryingQueue(DjangoRQ):
    def create_job(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("retry") is None:
            kwargs["retry"] = Retry(**RETRY)  # type: ignore[arg-type]
        return super().create_job(*args, **kwargs)
