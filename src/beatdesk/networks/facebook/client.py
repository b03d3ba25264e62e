"""HTTP to Meta's Graph API: one request, its usage budget, and Graph's failures as ours.

Graph answers errors as {"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}, usually with HTTP 400 whatever the cause, so the error code decides:

* 4, 17, 32, 613 and the business-use-case codes 80001-80014 (or HTTP 429): rate limited;
* 1, 2 (or is_transient, HTTP 5xx, a timeout, no connection, a body that is not JSON):
  worth retrying;
* 190 (token expired or revoked), 10 and 200-299 (permission), HTTP 401/403 and any other
  4xx: refused until someone fixes the account.

Usage is reported in the X-App-Usage, X-Page-Usage and X-Business-Use-Case-Usage headers
as percentages of the allowance; the budget left is 100 minus the highest of them. The
page access token is sent in the Authorization header (never in the URL) and scrubbed
from anything Graph echoes back, since Graph quotes a malformed token in its message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from beatdesk.networks import http
from beatdesk.networks.base import Budget, NetworkRefused, RateLimited, TransientError

DEFAULT_GRAPH_BASE = "https://graph.facebook.com/v21.0"
FETCH_TIMEOUT = http.FETCH_TIMEOUT
PUBLISH_TIMEOUT = http.PUBLISH_TIMEOUT
# When Graph says "rate limited" without saying for how long: wait a minute.
DEFAULT_RATE_LIMIT_WAIT = 60.0

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
TRANSIENT_CODES = frozenset({1, 2})
TOKEN_CODES = frozenset({102, 190})
PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
OUTSIDE_WINDOW_SUBCODE = 2018278  # Messenger: a reply outside the 24-hour window
USAGE_HEADERS = ("x-app-usage", "x-page-usage", "x-ad-account-usage")
BUC_HEADERS = ("x-business-use-case-usage",)


@dataclass(frozen=True)
class GraphResponse:
    status: int
    data: dict[str, Any]
    budget: Budget


def _percentages(value: Any) -> list[float]:
    """Every usage percentage in one usage object (call_count, total_time, …)."""
    found: list[float] = []
    if isinstance(value, dict):
        for key, number in value.items():
            if key == "estimated_time_to_regain_access" or key == "type":
                continue
            if isinstance(number, int | float) and not isinstance(number, bool):
                found.append(float(number))
    return found


def _header_json(headers: httpx.Headers, name: str) -> Any:
    raw = headers.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _regain_seconds(headers: httpx.Headers) -> float | None:
    """The longest estimated_time_to_regain_access (minutes in Graph) as seconds."""
    waits: list[float] = []
    for name in BUC_HEADERS:
        usage = _header_json(headers, name)
        if not isinstance(usage, dict):
            continue
        for entries in usage.values():
            for entry in entries if isinstance(entries, list) else [entries]:
                if isinstance(entry, dict):
                    wait = entry.get("estimated_time_to_regain_access")
                    if isinstance(wait, int | float) and not isinstance(wait, bool) and wait > 0:
                        waits.append(float(wait) * 60)
    return max(waits) if waits else None


def budget_from(headers: httpx.Headers) -> Budget:
    """Budget out of Graph's usage headers: remaining = 100 - the highest percentage."""
    percents: list[float] = []
    for name in USAGE_HEADERS:
        percents.extend(_percentages(_header_json(headers, name)))
    for name in BUC_HEADERS:
        usage = _header_json(headers, name)
        if isinstance(usage, dict):
            for entries in usage.values():
                for entry in entries if isinstance(entries, list) else [entries]:
                    percents.extend(_percentages(entry))
    if not percents:
        return Budget()
    regain = _regain_seconds(headers)
    return Budget(
        remaining=max(0, 100 - int(max(percents) + 0.999)),
        limit=100,
        resets_at=time.time() + regain if regain else None,
    )


def _retry_after(headers: httpx.Headers) -> float:
    wait = http.retry_after(headers, Budget())  # Graph's usage headers carry no reset time
    return wait if wait is not None else _regain_seconds(headers) or DEFAULT_RATE_LIMIT_WAIT


def appsecret_proof(token: str, app_secret: str) -> str:
    """Graph's appsecret_proof: hex HMAC-SHA256 of the access token keyed with the secret."""
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


def _graph_error(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _describe(error: dict[str, Any], response: httpx.Response, secrets: tuple[str, ...]) -> str:
    if error:
        message = str(error.get("message") or error.get("error_user_msg") or "").strip()
        code = error.get("code")
        subcode = error.get("error_subcode")
        label = f"code {code}" + (f"/{subcode}" if subcode not in (None, "") else "")
        trace = error.get("fbtrace_id")
        parts = [label, message[:300]]
        if trace:
            parts.append(f"fbtrace_id {trace}")
        return _scrub(": ".join(p for p in parts if p), secrets)
    return _scrub(response.text[:200].strip(), secrets)


def _code(error: dict[str, Any]) -> int | None:
    code = error.get("code")
    if isinstance(code, bool):
        return None
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


def raise_for_graph(response: httpx.Response, what: str, secrets: tuple[str, ...] = ()) -> None:
    """Raise RateLimited, TransientError or NetworkRefused when Graph said no."""
    status = response.status_code
    error = _graph_error(response)
    if status < 400 and not error:
        return
    if not error:  # not Graph speaking (a proxy, an outage page): the status says it all
        http.raise_for_status(
            response,
            f"Meta {what}",
            reason=_scrub(response.text[:200].strip(), secrets),
            default_wait=_retry_after(response.headers),
        )
    code = _code(error)
    detail = _describe(error, response, secrets)
    if status == 429 or code in RATE_LIMIT_CODES:
        wait = _retry_after(response.headers)
        raise RateLimited(
            f"Meta rate limit reached for {what}; retry in {wait:.0f}s ({detail})".rstrip(),
            wait,
        )
    if status >= 500 or code in TRANSIENT_CODES or error.get("is_transient") is True:
        raise TransientError(f"Meta failed {what} (HTTP {status}, {detail})")
    if _code({"code": error.get("error_subcode")}) == OUTSIDE_WINDOW_SUBCODE:
        raise NetworkRefused(
            f"Meta refused {what}: the person last wrote more than 24 hours ago, outside "
            f"Messenger's standard messaging window ({detail})"
        )
    if code in TOKEN_CODES or status == 401:
        raise NetworkRefused(
            f"Meta refused {what} (HTTP {status}): the page access token is invalid, expired "
            f"or revoked; reconnect the account ({detail})"
        )
    if code in PERMISSION_CODES or status == 403:
        raise NetworkRefused(
            f"Meta refused {what} (HTTP {status}): the app or token lacks a permission or "
            f"page task this needs ({detail})"
        )
    raise NetworkRefused(f"Meta rejected {what} (HTTP {status}, {detail})")


def request(
    method: str,
    url: str,
    *,
    token: str,
    what: str,
    app_secret: str = "",
    params: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    timeout: httpx.Timeout = FETCH_TIMEOUT,
) -> GraphResponse:
    """Send one request to the Graph API; raise as Graph fails. Never echoes the token."""
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "beatdesk"}
    query = dict(params or {})
    if app_secret:
        query["appsecret_proof"] = appsecret_proof(token, app_secret)
    secrets = (token, app_secret)
    response = http.send(
        method,
        url,
        what=f"Meta {what}",
        timeout=timeout,
        params=query,
        json=body,
        headers=headers,
    )
    raise_for_graph(response, what, secrets)
    data = http.json_object(response, f"Meta {what}")
    return GraphResponse(response.status_code, data, budget_from(response.headers))
