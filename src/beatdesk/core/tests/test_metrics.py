"""/metrics: a real scrape, parsed by prometheus_client's own parser; only from the allowed
networks or with the bearer token."""

from __future__ import annotations

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from beatdesk.testing.fixtures import route

pytestmark = pytest.mark.django_db

KNIFE = "there's a man with a knife outside the Spar on Dudley Rd hurry!!"


def scrape(**extra: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = Client().get("/metrics", **extra)  # type: ignore[arg-type]
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("text/plain; version=")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.content.decode())
        for s in family.samples
    }


def test_a_scrape_counts_what_was_stored_raised_and_queued(
    deliver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        received = deliver({"id": "k-1", "text": KNIFE})
        deliver({"id": "k-2", "text": "thanks to the officers at the carnival"})
    seen = scrape()
    assert seen[("beatdesk_messages_stored_total", (("network", "replay"),))] == 2
    assert seen[("beatdesk_queue_depth", (("queue", "triage"),))] >= 1  # new messages' triage
    assert seen[("beatdesk_queue_depth", (("queue", "rereads"),))] >= 0  # every queue is named
    assert seen[("beatdesk_backlog_oldest_unread_seconds", ())] >= 0
    assert seen[("beatdesk_live_workers", ())] == 0
    assert seen[("beatdesk_alerts_raised_total", ())] == 0
    assert seen[("beatdesk_task_failures_total", ())] == 0
    route(received.message_id)
    seen = scrape()
    assert seen[("beatdesk_alerts_raised_total", ())] == 1
    assert ("beatdesk_response_target_breaches_total", ()) in seen


def test_metrics_refused_outside_the_allowed_networks_without_the_token(settings):
    settings.BEATDESK_METRICS_TOKEN = "s3cret-token"
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    refused = Client().get("/metrics", **outside)  # type: ignore[arg-type]
    assert refused.status_code == 403 and b"BEATDESK_METRICS_ALLOW" in refused.content
    wrong = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer nope", **outside)  # type: ignore[arg-type]
    assert wrong.status_code == 403
    assert scrape(HTTP_AUTHORIZATION="Bearer s3cret-token", **outside)
    import ipaddress

    settings.BEATDESK_METRICS_ALLOW = [ipaddress.ip_network("203.0.113.0/24")]
    assert scrape(**outside)
