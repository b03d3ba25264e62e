"""The HTTP side of the Mastodon connector: one small client over httpx.

Every way a call can fail becomes one of the contract's errors through the shared HTTP
layer (networks/http.py): 429 -> RateLimited until X-RateLimit-Reset; 5xx, 408, timeouts,
connection errors and unreadable bodies -> TransientError; 401, 403, 404, 410, 422 and other
4xx -> NetworkRefused, with what each means on Mastodon (below) and the instance's own error.

The access token is sent only in the Authorization header and never appears in a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from beatdesk.networks import http
from beatdesk.networks.base import Budget, NetworkRefused, TransientError

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
        query = tuple(params or ())  # a tuple: covariant, as httpx types it
        body: dict[str, Any] = (
            {"data": form, "files": files} if files is not None else {"json": json_body}
        )
        response = http.send(
            method,
            path,
            what=what,
            base_url=self.base_url,
            timeout=self._timeout,
            transport=self._transport,
            params=query,
            headers=sent,
            **body,
        )
        budget = http.budget_from(response.headers)
        http.raise_for_status(
            response,
            what,
            reason=http.error_field(response, "error"),
            refusals=_REFUSALS,
            budget=budget,
        )
        return Reply(http.json_body(response, what), budget)


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
