"""Prometheus metrics at `/metrics` (prometheus-client).

Every figure is read from the database (and RQ, under BEATDESK_TASKS=rq) at scrape time by
one Collector, so it is the same whichever of many web processes answers the scrape, and
survives restarts: no in-process counters, no multiprocess directory. Counts only, no
personal data.

Open to the addresses in BEATDESK_METRICS_ALLOW (comma-separated CIDRs, default loopback;
the connecting address, REMOTE_ADDR) or to a request bearing `Authorization: Bearer
<BEATDESK_METRICS_TOKEN>` — behind a proxy, use the token.
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

from beatdesk.inbox.models import Escalation, Message
from beatdesk.operations.status import background_work
from beatdesk.operations.sweep import backlog, live_workers
from beatdesk.triage.models import Alert


class DeskCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        stored = CounterMetricFamily(
            "beatdesk_messages_stored", "Messages stored, by network", labels=["network"]
        )
        for network, n in (
            Message.objects.values_list("network").annotate(n=Count("id")).order_by("network")
        ):
            stored.add_metric([network], n)
        yield stored

        age = backlog()["oldest_unread_age_s"]
        yield GaugeMetricFamily(
            "beatdesk_backlog_oldest_unread_seconds",
            "Age of the oldest message stored and not yet read (0 when none)",
            value=age or 0,
        )
        pending, failed, queues = background_work()  # None for both while Redis is away
        if failed is not None:
            yield CounterMetricFamily(
                "beatdesk_task_failures", "Background tasks that failed", value=failed
            )
        depth = GaugeMetricFamily(
            "beatdesk_queue_depth", "Background work waiting or running, by queue", labels=["queue"]
        )
        for name, detail in sorted(queues.items()):
            depth.add_metric([name], sum(n for what, n in detail.items() if what != "failed"))
        yield depth
        if pending is not None:
            yield GaugeMetricFamily(
                "beatdesk_background_pending", "Background work waiting or running", value=pending
            )
        yield CounterMetricFamily(
            "beatdesk_alerts_raised", "Grade-1 alerts raised", value=Alert.objects.count()
        )
        yield CounterMetricFamily(
            "beatdesk_response_target_breaches",
            "Messages that missed their response target (escalated)",
            value=Escalation.objects.count(),
        )
        yield GaugeMetricFamily(
            "beatdesk_live_workers", "Workers beating now", value=live_workers().count()
        )


def allowed(request: HttpRequest) -> bool:
    token = settings.BEATDESK_METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        client = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(client in net for net in settings.BEATDESK_METRICS_ALLOW)


def metrics(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        return HttpResponse(
            "metrics are open to BEATDESK_METRICS_ALLOW or a BEATDESK_METRICS_TOKEN bearer\n",
            status=403,
            content_type="text/plain",
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeskCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
