"""A small XRPC client for a Bluesky PDS, over httpx, with the desk's error contract.

Every call maps the network's answers onto beatdesk.networks.base through the shared HTTP
layer (networks/http.py): 429 -> RateLimited until RateLimit-Reset (unix seconds); 5xx,
timeouts (CALL_TIMEOUT seconds), connection errors, a body that is not the JSON object the
lexicon promises -> TransientError; 401, 403 and other 4xx -> NetworkRefused, with the XRPC
error name and message (never the credentials). Only Bluesky's own part is here: a 400
ExpiredToken/InvalidToken (or a 401 to a session) is TokenRejected, and gets a new session.

A session (com.atproto.server.createSession with an app password) is cached per
service, identifier and password, and kept across processes when the credentials carry a
SessionStore (the account's encrypted credentials: see sessions.py). When the PDS refuses
the access token (it lives minutes to hours), the client takes a session another process
has renewed meanwhile, else refreshes it (com.atproto.server.refreshSession with the
refresh token), and only when that is refused too signs in again. The PDS allows 30
createSession calls per 5 minutes and 300 a day per identifier, so a `poll --once` every
few minutes must not sign in each time.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

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

    def to_dict(self) -> dict[str, str]:
        return {
            "did": self.did,
            "handle": self.handle,
            "accessJwt": self.access_jwt,
            "refreshJwt": self.refresh_jwt,
        }

    @classmethod
    def from_answer(cls, data: dict[str, Any], nsid: str) -> Session:
        """A session from createSession's or refreshSession's answer (or to_dict's)."""
        fields = (data.get("did"), data.get("handle"), data.get("accessJwt"))
        if not all(isinstance(value, str) and value for value in fields):
            raise TransientError(f"Bluesky {nsid}: the answer lacks did/handle/accessJwt")
        refresh = data.get("refreshJwt")
        return cls(
            did=str(data["did"]),
            handle=str(data["handle"]),
            access_jwt=str(data["accessJwt"]),
            refresh_jwt=refresh if isinstance(refresh, str) else "",
        )


class SessionStore(Protocol):
    """Where an account's session is kept between processes (encrypted, with its credentials)."""

    def load(self) -> Session | None: ...

    def save(self, session: Session) -> None: ...


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
    store: SessionStore | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any], store: SessionStore | None = None) -> Credentials:
        service = str(data.get("service") or DEFAULT_SERVICE).rstrip("/")
        identifier = str(data.get("identifier") or "")
        password = str(data.get("app_password") or "")
        if not identifier or not password:
            raise NetworkRefused(
                "Bluesky credentials need an 'identifier' (handle or DID) and an 'app_password'"
            )
        if not service.startswith(("https://", "http://")):
            raise NetworkRefused(f"Bluesky service {service!r} is not an http(s) URL")
        return cls(service, identifier, password, store)

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
        return Session.from_answer(reply.data, "createSession")

    def refresh_session(self, credentials: Credentials, session: Session) -> Session:
        """com.atproto.server.refreshSession: new tokens for the refresh token (TokenRejected
        when the PDS no longer takes it: expired, revoked, or the app password deleted)."""
        reply = self.call(
            credentials.service,
            "POST",
            "com.atproto.server.refreshSession",
            token=session.refresh_jwt,
        )
        return Session.from_answer(reply.data, "refreshSession")

    def _keep(self, credentials: Credentials, session: Session) -> Session:
        with self._lock:
            self._sessions[credentials.cache_key] = session
        if credentials.store is not None:
            credentials.store.save(session)
        return session

    def _stored(self, credentials: Credentials) -> Session | None:
        return credentials.store.load() if credentials.store is not None else None

    def session(self, credentials: Credentials, *, fresh: bool = False) -> Session:
        """The account's session: this process's, else the one kept in the store, else a
        new one (createSession). `fresh` always signs in again."""
        key = credentials.cache_key
        if not fresh:
            with self._lock:
                cached = self._sessions.get(key)
            if cached is not None:
                return cached
            stored = self._stored(credentials)
            if stored is not None:
                with self._lock:
                    self._sessions[key] = stored
                return stored
        return self._keep(credentials, self.create_session(credentials))

    def renew(self, credentials: Credentials, refused: Session) -> Session:
        """A session to use after the PDS refused `refused`'s access token: one another
        process renewed meanwhile, else refreshSession, else a new sign-in."""
        stored = self._stored(credentials)
        if stored is not None and stored.access_jwt != refused.access_jwt:
            with self._lock:
                self._sessions[credentials.cache_key] = stored
            return stored
        if refused.refresh_jwt:
            try:
                return self._keep(credentials, self.refresh_session(credentials, refused))
            except NetworkRefused:
                pass  # the refresh token is spent or revoked: sign in again
        return self.session(credentials, fresh=True)

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
        """A call with the account's session; a rejected token gets one renewed session."""

        def attempt(session: Session) -> Reply:
            return self.call(
                credentials.service,
                method,
                nsid,
                token=session.access_jwt,
                params=params,
                body=body,
                content=content,
                content_type=content_type,
            )

        session = self.session(credentials)
        try:
            return session, attempt(session)
        except TokenRejected:
            self.forget(credentials)
        session = self.renew(credentials, session)
        try:
            return session, attempt(session)
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
