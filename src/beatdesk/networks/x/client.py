"""HTTP to the X API: one request, its rate-limit budget, and X's failures as ours.

X answers errors with problem JSON ({"title", "detail", "type", "status"}) and reports its
rate limit in x-rate-limit-limit / x-rate-limit-remaining / x-rate-limit-reset (unix seconds).
Tokens are sent, never put in an error message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from beatdesk.networks import http
from beatdesk.networks.base import Budget, NetworkRefused, TransientError

DEFAULT_API_BASE = "https://api.x.com"
FETCH_TIMEOUT = http.FETCH_TIMEOUT
PUBLISH_TIMEOUT = http.PUBLISH_TIMEOUT
# When X says 429 without a reset time: wait a minute rather than hammer it.
DEFAULT_RATE_LIMIT_WAIT = 60.0
_REFUSALS = {
    401: "refused (401): the token is missing, expired or revoked",
    403: "refused (403): the app or token is not allowed to do this (access level, scopes "
    "or project)",
}


def api_base(credentials: dict[str, Any]) -> str:
    """The account's API address (a test's fake, or X's own)."""
    return str(credentials.get("api_base") or DEFAULT_API_BASE).rstrip("/")


@dataclass(frozen=True)
class XResponse:
    status: int
    data: dict[str, Any]
    budget: Budget


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
    where = f"X {what}"
    response = http.send(
        method, url, what=where, timeout=timeout, params=params, json=body, headers=headers
    )
    budget = http.budget_from(response.headers)
    http.raise_for_status(
        response,
        where,
        reason=_problem(response) if response.status_code >= 400 else "",
        refusals=_REFUSALS,
        default_wait=DEFAULT_RATE_LIMIT_WAIT,
        budget=budget,
    )
    return XResponse(response.status_code, http.json_object(response, where), budget)


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
    base = api_base(credentials)
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
    base = api_base(credentials)
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
