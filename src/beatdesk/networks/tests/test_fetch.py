"""Listening: fetch from the cursor, store, move the cursor; back off on failure; catch up."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from beatdesk.core.clock import now
from beatdesk.inbox.models import InboundPayload, Message
from beatdesk.networks.actions import backoff_seconds, do_fetch, fetchable_accounts
from beatdesk.networks.models import ChannelHealth
from beatdesk.testing.fakenet import FakeNetwork, Request, Response

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "x" / "fixtures"
MENTIONS = "/2/users/123456789/mentions"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def x_account(account, fake_network: FakeNetwork):  # noqa: F811
    acct = account("@WestmerePolice")
    acct.set_credentials(
        {
            "api_base": fake_network.base_url,
            "bearer_token": "t",
            "user_id": "123456789",
            "user_access_token": "u",
            "consumer_secret": "s",
        }
    )
    acct.save()
    return acct


def mentions(request: Request) -> Response:
    page = "mentions_page2.json" if request.param("pagination_token") else "mentions_page1.json"
    if request.param("since_id"):
        page = "mentions_empty.json"
    headers = {
        "x-rate-limit-limit": "450",
        "x-rate-limit-remaining": "440",
        "x-rate-limit-reset": str(int(time.time()) + 900),
    }
    return Response(200, load(page), headers)


def test_a_fetch_stores_mentions_then_moves_the_cursor_and_keeps_health(x_account, fake_network):
    fake_network.route("GET", MENTIONS, mentions)
    assert x_account in fetchable_accounts()
    outcome = do_fetch(x_account)
    assert outcome.status == "fetched" and outcome.stored == outcome.fetched > 0
    x_account.refresh_from_db()
    assert x_account.cursor
    assert Message.objects.filter(network="x").count() == outcome.stored
    health = ChannelHealth.objects.get(account=x_account)
    assert health.last_success_at and health.consecutive_failures == 0
    assert health.rate_remaining == 440 and health.rate_limit == 450
    again = do_fetch(x_account)
    assert again.status == "fetched" and again.fetched == 0
    assert fake_network.calls("GET", MENTIONS)[-1].param("since_id") == x_account.cursor


def test_a_failing_network_backs_off_keeps_its_cursor_and_catches_up(x_account, fake_network):
    fake_network.route("GET", MENTIONS, mentions)
    fake_network.fail_next("500")
    failed = do_fetch(x_account)
    assert failed.status == "failed"
    x_account.refresh_from_db()
    assert x_account.cursor == "" and Message.objects.count() == 0
    health = ChannelHealth.objects.get(account=x_account)
    assert health.consecutive_failures == 1 and health.next_attempt_at > now()
    assert do_fetch(x_account).status == "waiting"
    caught_up = do_fetch(x_account, force=True)
    assert caught_up.status == "fetched" and caught_up.stored > 0
    assert ChannelHealth.objects.get(account=x_account).consecutive_failures == 0


def test_a_rate_limit_waits_at_least_until_the_reset(x_account, fake_network):
    reset = int(time.time()) + 600
    fake_network.route("GET", MENTIONS, mentions)
    fake_network.fail_next("429", headers={"x-rate-limit-reset": str(reset)})
    assert do_fetch(x_account).status == "failed"
    health = ChannelHealth.objects.get(account=x_account)
    assert health.next_attempt_at >= dt.datetime.fromtimestamp(reset - 2, tz=dt.UTC)
    assert "rate limited" in health.last_error


def test_bad_credentials_are_a_refusal_that_waits_for_a_person(x_account, fake_network):
    fake_network.route("GET", MENTIONS, Response(401, load("error_401.json")))
    assert do_fetch(x_account).status == "refused"
    health = ChannelHealth.objects.get(account=x_account)
    assert health.next_attempt_at > now() + dt.timedelta(minutes=50)
    assert "t" not in health.last_error.split() and "refused" in health.last_error


def test_a_restart_that_fetches_the_same_items_again_stores_nothing_twice(x_account, fake_network):
    fake_network.route("GET", MENTIONS, mentions)
    first = do_fetch(x_account)
    x_account.cursor = ""  # as if the process died before the cursor was saved
    x_account.save()
    again = do_fetch(x_account)
    assert again.fetched == first.fetched and again.stored == 0
    assert Message.objects.count() == first.stored
    assert InboundPayload.objects.filter(status="duplicate").count() == first.fetched


def test_backoff_grows_with_failures_and_honours_the_network():
    assert backoff_seconds(1) <= 5
    assert 40 <= backoff_seconds(5) <= 80
    assert backoff_seconds(30) <= 15 * 60
    assert backoff_seconds(1, retry_after=300) >= 300


def test_the_health_page_shows_each_channel(x_account, fake_network, client_for):
    fake_network.route("GET", MENTIONS, mentions)
    do_fetch(x_account)
    page = client_for("dana.desk").get("/networks/health/")
    assert page.status_code == 200
    assert b"listening" in page.content and b"440 of 450" in page.content
    assert client_for("pcso.patel").get("/networks/health/").status_code == 403


def test_dead_letters_are_listed_and_can_be_read_again(deliver, client_for):
    from beatdesk.audit.models import AuditEvent

    bad = deliver('{"id": "9", "text": ""}')
    sergeant = client_for("sgt.hughes")
    page = sergeant.get("/networks/dead-letters/")
    assert page.status_code == 200 and b"non-empty" in page.content
    InboundPayload.objects.filter(pk=bad.payload_id).update(body='{"id": "9", "text": "fixed"}')
    sergeant.post(f"/networks/dead-letters/{bad.payload_id}/retry/")
    assert InboundPayload.objects.get(pk=bad.payload_id).status == "stored"
    assert AuditEvent.objects.filter(action="dead_letter.retried").exists()
    assert client_for("dana.desk").get("/networks/dead-letters/").status_code == 403
