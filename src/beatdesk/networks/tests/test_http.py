"""The one HTTP layer: every network's failures become the same errors, with the wait the
network asked for, whichever header it said it in."""

from __future__ import annotations

import time
from email.utils import formatdate

import httpx
import pytest

from beatdesk.networks import http
from beatdesk.networks.base import NetworkRefused, RateLimited, TransientError
from beatdesk.testing.fakenet import FakeNetwork, Response


def answer(
    status: int, headers: dict[str, str] | None = None, body: bytes = b"{}"
) -> httpx.Response:
    return httpx.Response(status, headers=headers or {}, content=body)


@pytest.mark.parametrize(
    "headers",
    [
        {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0", "x-rate-limit-reset": "{t}"},
        {"RateLimit-Limit": "450", "RateLimit-Remaining": "0", "RateLimit-Reset": "{t}"},
        {"X-RateLimit-Limit": "450", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "{iso}"},
    ],
    ids=["x", "ietf-bluesky", "mastodon-iso-time"],
)
def test_a_rate_limit_waits_until_the_reset_the_network_named(headers: dict[str, str]) -> None:
    reset = int(time.time()) + 120
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(reset))
    sent = {k: v.format(t=reset, iso=iso) for k, v in headers.items()}
    budget = http.budget_from(httpx.Headers(sent))
    assert (budget.limit, budget.remaining, budget.resets_at) == (450, 0, reset)
    with pytest.raises(RateLimited) as caught:
        http.raise_for_status(answer(429, sent), "GET /mentions")
    assert caught.value.retry_after is not None and 110 <= caught.value.retry_after <= 120


def test_retry_after_in_seconds_or_as_a_date_and_a_default_when_none_is_said() -> None:
    with pytest.raises(RateLimited) as seconds:
        http.raise_for_status(answer(429, {"Retry-After": "30"}), "GET /feed")
    assert seconds.value.retry_after == 30
    later = formatdate(time.time() + 90, usegmt=True)
    with pytest.raises(RateLimited) as dated:
        http.raise_for_status(answer(429, {"Retry-After": later}), "GET /feed")
    assert dated.value.retry_after is not None and 80 <= dated.value.retry_after <= 90
    with pytest.raises(RateLimited) as unsaid:
        http.raise_for_status(answer(429), "GET /feed", default_wait=60)
    assert unsaid.value.retry_after == 60


@pytest.mark.parametrize(
    ("status", "error", "says"),
    [
        (500, TransientError, "answered 500; retry later"),
        (503, TransientError, "answered 503"),
        (408, TransientError, "answered 408"),
        (401, NetworkRefused, "reconnect the account"),
        (403, NetworkRefused, "lacks the permission"),
        (404, NetworkRefused, "no such endpoint"),
        (422, NetworkRefused, "refused (422): Validation failed"),
        (301, NetworkRefused, "redirected (301)"),
    ],
)
def test_each_status_is_one_of_the_contracts_errors(status, error, says) -> None:
    with pytest.raises(error, match=r"^POST /statuses: .*") as caught:
        http.raise_for_status(answer(status), "POST /statuses", reason="Validation failed")
    assert says in str(caught.value)
    assert type(caught.value) is error  # a refusal is never mistaken for a rate limit


def test_a_networks_own_reading_of_a_status_wins() -> None:
    with pytest.raises(NetworkRefused, match="the access token lacks write:statuses"):
        http.raise_for_status(
            answer(403), "POST /statuses", refusals={403: "the access token lacks write:statuses"}
        )
    http.raise_for_status(answer(202), "POST /media")  # 2xx: nothing to say


def test_an_unreadable_answer_is_worth_retrying() -> None:
    with pytest.raises(TransientError, match="could not be read as JSON"):
        http.json_body(answer(200, body=b"<html>busy</html>"), "GET /mentions")
    with pytest.raises(TransientError, match="not a JSON object"):
        http.json_object(answer(200, body=b"[1, 2]"), "GET /mentions")


def test_no_answer_at_all_is_transient_and_names_the_call(fake_network: FakeNetwork) -> None:
    fake_network.route("GET", "/slow", Response(200, {}))
    fake_network.fail_next("timeout")
    with pytest.raises(TransientError, match="GET /slow timed out after 0.2 s"):
        http.send("GET", fake_network.base_url + "/slow", what="GET /slow", timeout=0.2)
    with pytest.raises(TransientError, match="GET /closed failed: ConnectError"):
        http.send("GET", "http://127.0.0.1:9/closed", what="GET /closed", timeout=0.5)
