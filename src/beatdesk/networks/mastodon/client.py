"""The HTTP side of the Mastodon connector: one small client over httpx.

Every way a call can fail becomes one of the contract's errors (base.py), so callers never
see an httpx exception or a traceback from a bad body:

- 429                                    -> RateLimited, retry_after = seconds to X-RateLimit-Reset
- 5xx, 408, timeouts, connection errors  -> TransientError
- a 2xx body that is not the JSON asked  -> TransientError (unreadable; retry later)
- 401, 403, 404, 410, 422 and other 4xx  -> NetworkRefused (retrying will not help)

The access token is sent only in the Authorization header and never appears in a message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from beatdesk.networks.base import (
    Budget,
    NetworkRefused,
    PayloadError,
    RateLimited,
    TransientError,
    parse_time,
)

if TYPE_CHECKING:
    from beatdesk.networks.models import NetworkAccount

TIMEOUT_SECONDS = 2.0
USER_AGENT = "beatdesk-mastodon/1"

_REFUSALS = {
    401: "the access token was refused (401): reconnect the account",
    403: "the access token lacks the scope needed (403): it needs read:notifications, "
    "write:statuses and (for images) write:media",
    404: "the instance has no such endpoint or item (404): check the instance URL",
    410: "the item is gone (410)",
    422: "the instance rejected the request as invalid (422)",
}


def budget_from(headers: httpx.Headers) -> Budget:
    """Mastodon's rate-limit headers; X-RateLimit-Reset is an ISO 8601 time."""

    def _int(name: str) -> int | None:
        try:
            return int(headers[name])
        except (KeyError, ValueError):
            return None

    resets_at: float | None = None
    if reset := headers.get("X-RateLimit-Reset"):
        try:
            resets_at = parse_time(reset).timestamp()
        except PayloadError:
            resets_at = None
    return Budget(
        remaining=_int("X-RateLimit-Remaining"),
        limit=_int("X-RateLimit-Limit"),
        resets_at=resets_at,
    )


def _retry_after(headers: httpx.Headers, budget: Budget) -> float | None:
    if budget.resets_at is not None:
        return max(0.0, budget.resets_at - time.time())
    try:
        return max(0.0, float(headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


def _error_detail(response: httpx.Response) -> str:
    """The instance's own explanation ({"error": "..."}), if it gave one."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"][:300]
    return ""


@dataclass(frozen=True)
class Reply:
    data: Any
    budget: Budget


class MastodonClient:
    """Calls to one instance with one account's access token."""

    def __init__(
        self,
        instance: str,
        access_token: str,
        *,
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        base = (instance or "").strip().rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise NetworkRefused(
                "the Mastodon account's 'instance' must be the instance's URL, "
                "such as https://social.police.example"
            )
        if not access_token:
            raise NetworkRefused("the Mastodon account has no access token: reconnect it")
        self.base_url = base
        self._token = access_token
        self._timeout = timeout
        self._transport = transport

    def __repr__(self) -> str:  # never the token
        return f"<MastodonClient {self.base_url}>"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        json_body: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """One call; `form` and `files` (name -> (filename, bytes, content type)) send a
        multipart/form-data body instead of JSON."""
        sent = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **(headers or {}),
        }
        what = f"{method} {path} on {self.base_url}"
        try:
            with httpx.Client(
                base_url=self.base_url,
                timeout=self._timeout,
                transport=self._transport,
                follow_redirects=False,
            ) as http:
                query = tuple(params or ())  # a tuple: covariant, as httpx types it
                if files is not None:
                    response = http.request(
                        method, path, params=query, data=form, files=files, headers=sent
                    )
                else:
                    response = http.request(
                        method, path, params=query, json=json_body, headers=sent
                    )
        except httpx.TimeoutException as exc:
            raise TransientError(f"{what} timed out after {self._timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise TransientError(f"{what} failed: {type(exc).__name__}") from exc

        budget = budget_from(response.headers)
        status = response.status_code
        if status == 429:
            retry_after = _retry_after(response.headers, budget)
            wait = f"; retry in {retry_after:.0f} s" if retry_after is not None else ""
            raise RateLimited(f"{what}: rate limited (429){wait}", retry_after=retry_after)
        if status >= 500 or status == 408:
            raise TransientError(f"{what}: the instance answered {status}; retry later")
        if 300 <= status < 400:
            where = response.headers.get("Location", "elsewhere")
            raise NetworkRefused(
                f"{what}: redirected ({status}) to {where}; check the instance URL"
            )
        if status >= 400:
            reason = _REFUSALS.get(status, f"the instance refused the request ({status})")
            detail = _error_detail(response)
            raise NetworkRefused(f"{what}: {reason}" + (f": {detail}" if detail else ""))
        try:
            data = response.json()
        except ValueError as exc:
            raise TransientError(
                f"{what}: the instance's answer ({status}) could not be read as JSON; retry later"
            ) from exc
        return Reply(data, budget)


def client_for(account: NetworkAccount, **kwargs: Any) -> MastodonClient:
    """The client for a Mastodon NetworkAccount from its (decrypted) credentials."""
    try:
        credentials = account.get_credentials()
    except ValueError as exc:
        raise NetworkRefused(str(exc)) from exc
    if not credentials:
        raise NetworkRefused(
            f"{account!r} has no credentials: it needs 'instance' and 'access_token'"
        )
    return MastodonClient(
        str(credentials.get("instance") or ""),
        str(credentials.get("access_token") or ""),
        **kwargs,
    )


def get_status(client: MastodonClient, status_id: str) -> dict[str, Any]:
    """GET /api/v1/statuses/:id: one status, with its reblogs_count, favourites_count and
    replies_count (for the reach of what the force published)."""
    data = client.request("GET", f"/api/v1/statuses/{status_id}").data
    if not isinstance(data, dict):
        raise TransientError("GET /api/v1/statuses/:id: the answer is not a status")
    return data


def verify_credentials(client: MastodonClient) -> dict[str, Any]:
    """GET /api/v1/accounts/verify_credentials: the account itself, with followers_count."""
    data = client.request("GET", "/api/v1/accounts/verify_credentials").data
    if not isinstance(data, dict):
        raise TransientError("verify_credentials: the answer is not an account")
    return data
