"""Prometheus metrics at /metrics, computed from the database at scrape time.

Every figure comes from what the database holds when Prometheus scrapes (a custom
Collector), so they are right however many web, worker and scheduler processes run:
no counter lives in one process's memory. Counters that the database records as rows
(messages stored, alerts raised, breaches) are exposed as counters of those rows.

Access: only from the addresses in BEATDESK_METRICS_ALLOW (CIDRs, comma-separated;
loopback by default) or with `Authorization: Bearer <BEATDESK_METRICS_TOKEN>`.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class DeskCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        from beatdesk.core.status import counts
        from beatdesk.inbox.models import Escalation, Message
        from beatdesk.triage.models import Triage

        stored = CounterMetricFamily(
            "beatdesk_messages_stored", "Messages stored, by network", labels=["network"]
        )
        for row in Message.objects.values("network").annotate(n=Count("id")).order_by():
            stored.add_metric([row["network"]], row["n"])
        yield stored
        data = counts()
        age = data.get("oldest_unread_age_s")
        yield GaugeMetricFamily(
            "beatdesk_backlog_oldest_unread_seconds",
            "Age of the oldest message not yet read (0 when all is read)",
            value=float(age or 0),
        )
        yield CounterMetricFamily(
            "beatdesk_task_failures",
            "Background tasks that failed",
            value=data["failed_background_work"],
        )
        yield CounterMetricFamily(
            "beatdesk_alerts_raised",
            "Messages graded 1 (an alert)",
            value=Triage.objects.filter(grade=1).count(),
        )
        yield CounterMetricFamily(
            "beatdesk_response_target_breaches",
            "Messages whose response target passed unacknowledged (escalations)",
            value=Escalation.objects.count(),
        )
        yield GaugeMetricFamily(
            "beatdesk_queue_depth",
            "Background work waiting or running",
            value=data["pending_background_work"],
        )


def allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(cidr, strict=False) for cidr in settings.METRICS_ALLOW
    )


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        return HttpResponse(
            "metrics are open only to BEATDESK_METRICS_ALLOW or a bearer token\n",
            status=403,
            content_type="text/plain",
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeskCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
