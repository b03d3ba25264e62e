"""A small XRPC client for a Bluesky PDS, over httpx, with the desk's error contract.

Every call maps the network's answers onto beatdesk.networks.base through the shared HTTP
layer (networks/http.py): 429 -> RateLimited until RateLimit-Reset (unix seconds); 5xx,
timeouts (CALL_TIMEOUT seconds), connection errors, a body that is not the JSON object the
lexicon promises -> TransientError; 401, 403 and other 4xx -> NetworkRefused, with the XRPC
error name and message (never the credentials). Only Bluesky's own part is here: a 400
ExpiredToken/InvalidToken (or a 401 to a session) is TokenRejected, and gets a new session.

A session (com.atproto.server.createSession with an app password) is cached per
service, identifier and password, and re-created once when the PDS says the access
token has expired.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

import httpx

from beatdesk.networks import http
from beatdesk.networks.base import Budget, NetworkRefused, TransientError

CALL_TIMEOUT = 2.0
DEFAULT_SERVICE = "https://bsky.social"
_TOKEN_ERRORS = {"ExpiredToken", "InvalidToken"}
_REFUSALS = {
    401: "refused (401); check the account's identifier and app password",
    403: "refused (403); check the account's identifier and app password",
}


@dataclass(frozen=True)
class Session:
    did: str
    handle: str
    access_jwt: str
    refresh_jwt: str


@dataclass(frozen=True)
class Reply:
    """One XRPC answer that went well: its JSON object and the rate limit it reported."""

    data: dict[str, Any]
    budget: Budget


class TokenRejected(NetworkRefused):
    """The PDS no longer accepts the session's access token (expired or revoked)."""


@dataclass(frozen=True)
class Credentials:
    service: str
    identifier: str
    password: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Credentials:
        service = str(data.get("service") or DEFAULT_SERVICE).rstrip("/")
        identifier = str(data.get("identifier") or "")
        password = str(data.get("app_password") or "")
        if not identifier or not password:
            raise NetworkRefused(
                "Bluesky credentials need an 'identifier' (handle or DID) and an 'app_password'"
            )
        if not service.startswith(("https://", "http://")):
            raise NetworkRefused(f"Bluesky service {service!r} is not an http(s) URL")
        return cls(service, identifier, password)

    @property
    def cache_key(self) -> str:
        # The password is part of the key (hashed) so new credentials get a new session.
        raw = f"{self.service}\n{self.identifier}\n{self.password}".encode()
        return hashlib.sha256(raw).hexdigest()


def _xrpc_error(response: httpx.Response) -> tuple[str, str]:
    try:
        data = response.json()
    except ValueError:
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    return str(data.get("error") or ""), str(data.get("message") or "")


class XrpcClient:
    """Calls to one PDS. Thread-safe: the connector instance is shared by the workers."""

    def __init__(self, timeout: float = CALL_TIMEOUT) -> None:
        self.timeout = timeout
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    # -- raw calls -------------------------------------------------------------------------

    def call(
        self,
        service: str,
        method: str,
        nsid: str,
        *,
        token: str = "",
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        content: bytes | None = None,
        content_type: str = "",
    ) -> Reply:
        """One XRPC call: a JSON `body`, or raw `content` bytes sent as `content_type`
        (com.atproto.repo.uploadBlob takes the blob itself, not JSON)."""
        url = f"{service}/xrpc/{nsid}"
        headers = {"Accept": "application/json", "User-Agent": "beatdesk"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content is not None:
            headers["Content-Type"] = content_type or "application/octet-stream"
        what = f"Bluesky {nsid}"
        response = http.send(
            method,
            url,
            what=what,
            timeout=self.timeout,
            params=params,
            json=body if content is None else None,
            content=content,
            headers=headers,
        )
        status = response.status_code
        if 400 <= status < 500 and status != 429:
            error, message = _xrpc_error(response)
            detail = f"{error or 'error'}: {message or response.reason_phrase}"
            if error in _TOKEN_ERRORS or (status == 401 and token):
                raise TokenRejected(f"{what}: session token refused ({detail})")
        else:
            error, message = _xrpc_error(response) if status >= 400 else ("", "")
            detail = f"{error}: {message}" if error or message else ""
        budget = http.budget_from(response.headers)
        http.raise_for_status(response, what, reason=detail, refusals=_REFUSALS, budget=budget)
        return Reply(http.json_object(response, what), budget)

    # -- sessions ---------------------------------------------------------------------------

    def create_session(self, credentials: Credentials) -> Session:
        try:
            reply = self.call(
                credentials.service,
                "POST",
                "com.atproto.server.createSession",
                body={"identifier": credentials.identifier, "password": credentials.password},
            )
        except TokenRejected as exc:  # not possible without a token, but keep it explicit
            raise NetworkRefused(str(exc)) from exc
        data = reply.data
        fields = (data.get("did"), data.get("handle"), data.get("accessJwt"))
        if not all(isinstance(value, str) and value for value in fields):
            raise TransientError("Bluesky createSession: the answer lacks did/handle/accessJwt")
        return Session(
            did=str(data["did"]),
            handle=str(data["handle"]),
            access_jwt=str(data["accessJwt"]),
            refresh_jwt=str(data.get("refreshJwt") or ""),
        )

    def session(self, credentials: Credentials, *, fresh: bool = False) -> Session:
        key = credentials.cache_key
        with self._lock:
            cached = None if fresh else self._sessions.get(key)
        if cached is not None:
            return cached
        created = self.create_session(credentials)
        with self._lock:
            self._sessions[key] = created
        return created

    def forget(self, credentials: Credentials) -> None:
        with self._lock:
            self._sessions.pop(credentials.cache_key, None)

    def authed(
        self,
        credentials: Credentials,
        method: str,
        nsid: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        content: bytes | None = None,
        content_type: str = "",
    ) -> tuple[Session, Reply]:
        """A call with the account's session; a rejected token gets one new session."""
        session = self.session(credentials)
        try:
            return session, self.call(
                credentials.service,
                method,
                nsid,
                token=session.access_jwt,
                params=params,
                body=body,
                content=content,
                content_type=content_type,
            )
        except TokenRejected:
            self.forget(credentials)
        session = self.session(credentials, fresh=True)
        try:
            return session, self.call(
                credentials.service,
                method,
                nsid,
                token=session.access_jwt,
                params=params,
                body=body,
                content=content,
                content_type=content_type,
            )
        except TokenRejected as exc:
            self.forget(credentials)
            raise NetworkRefused(
                f"{exc}; a new session was refused too — check the account's app password"
            ) from exc


GET_POSTS_LIMIT = 25  # app.bsky.feed.getPosts takes at most 25 uris


def get_posts(
    client: XrpcClient, credentials: Credentials, uris: list[str]
) -> list[dict[str, Any]]:
    """app.bsky.feed.getPosts: post views (replyCount, repostCount, likeCount, quoteCount)
    for up to 25 at:// uris; a deleted post is simply missing from the answer."""
    _, reply = client.authed(credentials, "GET", "app.bsky.feed.getPosts", params={"uris": uris})
    posts = reply.data.get("posts")
    if not isinstance(posts, list):
        raise TransientError("Bluesky app.bsky.feed.getPosts: the answer has no posts list")
    return [p for p in posts if isinstance(p, dict)]


def get_profile(client: XrpcClient, credentials: Credentials) -> dict[str, Any]:
    """app.bsky.actor.getProfile for the signed-in account: followersCount and the rest."""
    session = client.session(credentials)
    _, reply = client.authed(
        credentials, "GET", "app.bsky.actor.getProfile", params={"actor": session.did}
    )
    return reply.data
