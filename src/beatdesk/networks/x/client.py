"""HTTP to the X API: one request, its rate-limit budget, and X's failures as ours.

X answers errors with problem JSON ({"title", "detail", "type", "status"}) and reports its
rate limit in x-rate-limit-limit / x-rate-limit-remaining / x-rate-limit-reset (unix seconds).
Tokens are sent, never put in an error message.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from beatdesk.networks.base import Budget, NetworkRefused, RateLimited, TransientError

DEFAULT_API_BASE = "https://api.x.com"
FETCH_TIMEOUT = httpx.Timeout(2.0)
# Posting: a timeout after the request was sent leaves it unknown whether the post exists,
# so give X longer to answer before calling it transient.
PUBLISH_TIMEOUT = httpx.Timeout(10.0, connect=2.0)
# When X says 429 without a reset time: wait a minute rather than hammer it.
DEFAULT_RATE_LIMIT_WAIT = 60.0


@dataclass(frozen=True)
class XResponse:
    status: int
    data: dict[str, Any]
    budget: Budget


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def budget_from(headers: httpx.Headers) -> Budget:
    reset = _int_header(headers, "x-rate-limit-reset")
    return Budget(
        remaining=_int_header(headers, "x-rate-limit-remaining"),
        limit=_int_header(headers, "x-rate-limit-limit"),
        resets_at=float(reset) if reset is not None else None,
    )


def _problem(response: httpx.Response) -> str:
    """X's problem JSON (or v1.1-style {"errors": [...]}) as one line."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip()
    if not isinstance(body, dict):
        return ""
    parts = [
        str(body[key]) for key in ("title", "detail", "reason") if body.get(key) not in (None, "")
    ]
    errors = body.get("errors")
    if isinstance(errors, list):
        for error in errors[:3]:
            if isinstance(error, dict):
                parts.append(str(error.get("detail") or error.get("message") or ""))
    return ": ".join(p for p in parts if p)


def request(
    method: str,
    url: str,
    *,
    token: str,
    what: str,
    params: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    timeout: httpx.Timeout = FETCH_TIMEOUT,
) -> XResponse:
    """Send one request to X; raise RateLimited, TransientError or NetworkRefused as X fails."""
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "beatdesk"}
    try:
        with httpx.Client(timeout=timeout) as http:
            response = http.request(method, url, params=params, json=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise TransientError(f"X did not answer {what} in time ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise TransientError(f"could not reach X for {what}: {type(exc).__name__}") from exc

    budget = budget_from(response.headers)
    status = response.status_code
    if status == 429:
        wait = DEFAULT_RATE_LIMIT_WAIT
        if budget.resets_at is not None:
            wait = max(0.0, budget.resets_at - time.time())
        raise RateLimited(f"X rate limit reached for {what}; resets in {wait:.0f}s", wait)
    if status >= 500:
        raise TransientError(f"X failed {what} with HTTP {status}: {_problem(response)}".rstrip())
    if status in (401, 403):
        hint = (
            "the token is missing, expired or revoked"
            if status == 401
            else "the app or token is not allowed to do this (access level, scopes or project)"
        )
        raise NetworkRefused(f"X refused {what} (HTTP {status}, {hint}): {_problem(response)}")
    if status >= 400:
        raise NetworkRefused(f"X rejected {what} (HTTP {status}): {_problem(response)}")
    try:
        data = json.loads(response.content)
    except ValueError as exc:
        raise TransientError(f"X answered {what} with a body that is not JSON") from exc
    if not isinstance(data, dict):
        raise TransientError(f"X answered {what} with JSON that is not an object")
    return XResponse(status, data, budget)


LOOKUP_LIMIT = 100  # GET /2/tweets takes at most 100 ids


def _read_token(credentials: dict[str, Any]) -> str:
    token = credentials.get("user_access_token") or credentials.get("bearer_token")
    if not token:
        raise NetworkRefused("this X account has no user_access_token or bearer_token")
    return str(token)


def get_post_metrics(credentials: dict[str, Any], ids: list[str]) -> list[dict[str, Any]]:
    """GET /2/tweets?ids=…&tweet.fields=public_metrics: each post's public_metrics
    (impression_count, retweet_count, like_count, reply_count, quote_count). Posts X cannot
    find come back under "errors" and are left out."""
    base = str(credentials.get("api_base") or DEFAULT_API_BASE).rstrip("/")
    answer = request(
        "GET",
        f"{base}/2/tweets",
        token=_read_token(credentials),
        what="looking up the force's posts",
        params={"ids": ",".join(ids[:LOOKUP_LIMIT]), "tweet.fields": "public_metrics"},
    )
    data = answer.data.get("data", [])
    return [p for p in data if isinstance(p, dict)] if isinstance(data, list) else []


def get_me(credentials: dict[str, Any]) -> dict[str, Any]:
    """GET /2/users/me?user.fields=public_metrics: the account, with followers_count (needs
    the user-context token)."""
    base = str(credentials.get("api_base") or DEFAULT_API_BASE).rstrip("/")
    token = credentials.get("user_access_token")
    if not token:
        raise NetworkRefused("reading X followers needs the account's user_access_token")
    answer = request(
        "GET",
        f"{base}/2/users/me",
        token=str(token),
        what="reading the account's followers",
        params={"user.fields": "public_metrics"},
    )
    data = answer.data.get("data")
    if not isinstance(data, dict):
        raise TransientError("X answered /2/users/me without the user")
    return data
