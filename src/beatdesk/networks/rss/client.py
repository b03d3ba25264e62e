"""The HTTP side of the RSS/Atom connector: one conditional GET of a feed over httpx.

feedparser only ever parses the bytes downloaded here; it never fetches a URL itself.
Every way the download can fail becomes one of the contract's errors through the shared
HTTP layer (networks/http.py); the feed's own parts are here:

- 304                                        -> nothing new (the caller keeps its cursor)
- 503 with Retry-After                       -> RateLimited (the server asks to slow down)
- 429, 5xx, 408, timeouts, 4xx               -> as every network (http.raise_for_status)

The username and password are sent only as HTTP basic auth. Messages name the feed by its
scheme, host and path alone, so neither they nor a token in the URL's query ever reach a log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

from beatdesk.networks import http
from beatdesk.networks.base import NetworkRefused, RateLimited, TransientError

if TYPE_CHECKING:
    from beatdesk.networks.models import NetworkAccount

TIMEOUT_SECONDS = 5.0
MAX_BYTES = 5 * 1024 * 1024  # a feed larger than this is not a feed the desk wants to read
MAX_REDIRECTS = 5
USER_AGENT = "beatdesk-rss/1"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)

_REFUSALS = {
    401: "the feed asked for a login that was not given or was refused (401): check the "
    "account's username and password",
    403: "the feed's server refused access (403)",
    404: "there is no feed at this address (404): check the feed URL",
    410: "the feed has been removed for good (410)",
}


def describe(url: str) -> str:
    """The feed's address without userinfo, query or fragment (which may hold secrets)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


@dataclass(frozen=True)
class FeedReply:
    """A feed download: `content` is None when the server said 304 Not Modified."""

    content: bytes | None
    etag: str
    modified: str
    url: str  # where the feed was finally read from (after redirects)
    content_type: str


class FeedClient:
    """Conditional GETs of one feed URL, with optional basic auth."""

    def __init__(
        self,
        feed_url: str,
        *,
        username: str = "",
        password: str = "",
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        url = (feed_url or "").strip()
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise NetworkRefused(
                "the RSS account's 'feed_url' must be the feed's full address, "
                "such as https://www.westmere-gazette.example/news/feed.xml"
            )
        if "@" in parts.netloc:
            # user:password@ in the URL: sent as basic auth, kept out of the URL that httpx
            # logs at INFO (explicit credentials win over these).
            if not username:
                username, password = unquote(parts.username or ""), unquote(parts.password or "")
            parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])
            url = urlunsplit(parts)
        self.feed_url = url
        self.where = describe(url)
        self._auth = httpx.BasicAuth(username, password) if username else None
        self._timeout = timeout
        self._transport = transport

    def __repr__(self) -> str:  # never the credentials
        return f"<FeedClient {self.where}>"

    def get(self, *, etag: str = "", modified: str = "") -> FeedReply:
        headers = {"Accept": ACCEPT, "User-Agent": USER_AGENT}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        what = f"GET {self.where}"
        with (
            http.mapped_errors(what, self._timeout),
            httpx.Client(
                timeout=self._timeout,
                transport=self._transport,
                follow_redirects=True,  # feeds move (http -> https, new CMS); httpx
                max_redirects=MAX_REDIRECTS,  # drops basic auth on a move to another host
            ) as client,
            client.stream("GET", self.feed_url, headers=headers, auth=self._auth) as response,
        ):
            status = response.status_code
            content = self._read(response, what) if status == 200 else b""
        if status == 304:
            return FeedReply(None, etag, modified, str(response.url), "")
        wait = http.retry_after(response.headers)
        if status == 503 and wait is not None:
            # A server that says when to come back is asking us to slow down.
            raise RateLimited(
                f"{what}: the server asked to slow down ({status}); retry in {wait:.0f} s",
                retry_after=wait,
            )
        http.raise_for_status(response, what, refusals=_REFUSALS)
        return FeedReply(
            content,
            etag=response.headers.get("ETag", ""),
            modified=response.headers.get("Last-Modified", ""),
            url=str(response.url),
            content_type=response.headers.get("Content-Type", ""),
        )

    def _read(self, response: httpx.Response, what: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_BYTES:
                raise TransientError(f"{what}: the feed is larger than {MAX_BYTES} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def client_for(account: NetworkAccount, **kwargs: Any) -> FeedClient:
    """The client for an RSS NetworkAccount from its (decrypted) credentials."""
    try:
        credentials = account.get_credentials()
    except ValueError as exc:
        raise NetworkRefused(str(exc)) from exc
    if not credentials.get("feed_url"):
        raise NetworkRefused(f"{account!r} has no 'feed_url' in its credentials")
    return FeedClient(
        str(credentials.get("feed_url") or ""),
        username=str(credentials.get("username") or ""),
        password=str(credentials.get("password") or ""),
        **kwargs,
    )
