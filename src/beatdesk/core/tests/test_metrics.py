"""/metrics: a real HTTP scrape parsed by prometheus_client's own parser; closed to strangers."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db(transaction=True)


def scrape(url: str, token: str | None = None) -> dict[str, list[tuple[dict[str, str], float]]]:
    request = urllib.request.Request(url)  # noqa: S310 (the test server on loopback)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback)
        text = answer.read().decode()
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_a_scrape_reports_what_the_desk_holds(live_server, deliver):
    deliver({"id": "m-1", "text": "there's a man with a knife outside the Spar hurry!!"})
    deliver({"id": "m-2", "text": "thanks to the officers who found my nan"})
    found = scrape(f"{live_server.url}/metrics")
    assert found["beatdesk_messages_stored_total"] == [({"network": "replay"}, 2.0)]
    for name in (
        "beatdesk_backlog_oldest_unread_seconds",
        "beatdesk_task_failures_total",
        "beatdesk_alerts_raised_total",
        "beatdesk_response_target_breaches_total",
        "beatdesk_queue_depth",
    ):
        assert len(found[name]) == 1, name
    assert found["beatdesk_task_failures_total"][0][1] == 0
    assert found["beatdesk_queue_depth"][0][1] >= 0


def test_metrics_refused_outside_the_allowed_addresses_unless_the_token_is_given(
    live_server, settings
):
    settings.METRICS_ALLOW = ["192.0.2.0/24"]
    settings.METRICS_TOKEN = "scrape-me"
    with pytest.raises(urllib.error.HTTPError) as refused:
        scrape(f"{live_server.url}/metrics")
    assert refused.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as wrong:
        scrape(f"{live_server.url}/metrics", token="guess")
    assert wrong.value.code == 403
    assert "beatdesk_queue_depth" in scrape(f"{live_server.url}/metrics", token="scrape-me")
