"""The one HTTP layer every connector speaks through (httpx).

What every network's client would otherwise write again, written once:

- a call that cannot be made (timeout, refused connection, broken TLS, too many redirects)
  becomes TransientError (or NetworkRefused for a redirect loop), naming the call, never
  the credentials;
- the answer's status becomes the contract's error (`raise_for_status`):

  429                                     -> RateLimited, retry_after from the reset header
                                             (x-rate-limit-reset, RateLimit-Reset,
                                             X-RateLimit-Reset: unix seconds or a time) or
                                             Retry-After (seconds or an HTTP date)
  5xx, 408                                -> TransientError (worth retrying)
  3xx (redirects are not followed)        -> NetworkRefused: check the address
  401, 403, 404, 410, other 4xx           -> NetworkRefused (retrying will not help), with
                                             the network's own reason when it gave one

- a 2xx body that is not the JSON asked for -> TransientError (unreadable: retry later);
- the rate-limit budget each answer reports (`budget_from`).

A network whose errors say more than their status (Meta's error codes, Bluesky's expired
token) looks at the answer first and raises its own, then hands the rest to this layer.
Back-off between attempts is networks.actions.backoff_seconds, for every network.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from beatdesk.networks.base import Budget, NetworkRefused, RateLimited, TransientError

# Reading: a network that has not answered in two seconds is having trouble.
FETCH_TIMEOUT = httpx.Timeout(2.0)
# Posting: a timeout after the request was sent leaves it unknown whether the post exists,
# so give the network longer to answer before calling it transient.
PUBLISH_TIMEOUT = httpx.Timeout(10.0, connect=2.0)

# The names networks give their rate-limit headers: (limit, remaining, reset).
RATE_LIMIT_HEADERS = (
    ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"),  # X
    ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"),  # IETF draft, Bluesky
    ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"),  # Mastodon
)

_REFUSED = {
    401: "the credentials were refused (401): reconnect the account",
    403: "not allowed (403): the account or token lacks the permission this needs",
    404: "no such endpoint or item (404)",
    410: "the item is gone (410)",
}


def _seconds(timeout: httpx.Timeout | float) -> float:
    if isinstance(timeout, httpx.Timeout):
        return timeout.read or timeout.connect or 0.0
    return float(timeout)


@contextmanager
def mapped_errors(what: str, timeout: httpx.Timeout | float) -> Iterator[None]:
    """Inside: httpx's failures to make a call become the contract's errors."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise TransientError(
            f"{what} timed out after {_seconds(timeout):g} s ({type(exc).__name__})"
        ) from exc
    except httpx.TooManyRedirects as exc:
        raise NetworkRefused(f"{what}: redirected too many times; check the address") from exc
    except httpx.HTTPError as exc:
        raise TransientError(f"{what} failed: {type(exc).__name__}") from exc


def send(
    method: str,
    url: str,
    *,
    what: str,
    timeout: httpx.Timeout | float = FETCH_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
    base_url: str = "",
    **request: Any,
) -> httpx.Response:
    """One request, redirects not followed; the answer whatever its status (see
    raise_for_status), or TransientError when there was none."""
    with (
        mapped_errors(what, timeout),
        httpx.Client(
            base_url=base_url, timeout=timeout, transport=transport, follow_redirects=False
        ) as http,
    ):
        return http.request(method, url, **request)


def _number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def _reset_time(value: str | None) -> float | None:
    """A reset header as unix time: unix seconds, or an ISO 8601 time (Mastodon)."""
    if not value:
        return None
    try:
        return float(value.strip())
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def budget_from(headers: Mapping[str, str]) -> Budget:
    """The rate limit the answer reported, under whichever names the network uses."""
    for limit, remaining, reset in RATE_LIMIT_HEADERS:
        if any(name in headers for name in (limit, remaining, reset)):
            left, most = _number(headers, remaining), _number(headers, limit)
            return Budget(
                remaining=int(left) if left is not None else None,
                limit=int(most) if most is not None else None,
                resets_at=_reset_time(headers.get(reset)),
            )
    return Budget()


def retry_after(headers: Mapping[str, str], budget: Budget | None = None) -> float | None:
    """Seconds to wait: until the rate limit resets, else Retry-After (seconds or an HTTP
    date), else None when the network did not say."""
    budget = budget if budget is not None else budget_from(headers)
    if budget.resets_at is not None:
        return max(0.0, budget.resets_at - time.time())
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - time.time())


def raise_for_status(
    response: httpx.Response,
    what: str,
    *,
    reason: str = "",
    refusals: Mapping[int, str] | None = None,
    default_wait: float | None = None,
    budget: Budget | None = None,
) -> None:
    """Nothing for a 2xx answer; else the contract's error for its status. `reason` is the
    network's own explanation from the body; `refusals` say what a status means on this
    network; `default_wait` is the wait when a 429 names none."""
    status = response.status_code
    if 200 <= status < 300:
        return
    detail = f": {reason}" if reason else ""
    if status == 429:
        wait = retry_after(response.headers, budget)
        if wait is None:
            wait = default_wait
        after = f"; retry in {wait:.0f} s" if wait is not None else ""
        raise RateLimited(f"{what}: rate limited (429){after}{detail}", retry_after=wait)
    if status >= 500 or status == 408:
        raise TransientError(f"{what}: the network answered {status}; retry later{detail}")
    if 300 <= status < 400:
        where = response.headers.get("Location", "elsewhere")
        raise NetworkRefused(f"{what}: redirected ({status}) to {where}; check the address")
    if status >= 400:
        meaning = (refusals or {}).get(status) or _REFUSED.get(status)
        meaning = meaning or f"the request was refused ({status})"
        raise NetworkRefused(f"{what}: {meaning}{detail}")
    raise TransientError(f"{what}: unexpected answer {status}; retry later")


def json_body(response: httpx.Response, what: str) -> Any:
    """The answer's JSON; TransientError when it cannot be read (retry later)."""
    try:
        return response.json()
    except ValueError as exc:
        raise TransientError(
            f"{what}: the answer ({response.status_code}) could not be read as JSON"
        ) from exc


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    """The answer's JSON object; TransientError when it is not one."""
    data = json_body(response, what)
    if not isinstance(data, dict):
        raise TransientError(f"{what}: the answer is not a JSON object")
    return data


def error_field(response: httpx.Response, *keys: str) -> str:
    """A network's explanation in its error body: the first of `keys` that holds text."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    for key in keys:
        if isinstance(data.get(key), str) and data[key]:
            return str(data[key])[:300]
    return ""


@dataclass(frozen=True)
class Answer:
    """A 2xx answer read: its JSON and the rate limit it reported."""

    status: int
    data: Any
    budget: Budget
