"""A fake of a social network's HTTP API, served for real on 127.0.0.1.

The connectors' real client code talks HTTP to it; it answers with the payloads the
network's documentation shows, and can be told to fail the next calls the way networks
do (429 with reset headers, 500, a timeout, a malformed body). Every request is kept so
tests can check what the connector sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; str/bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response]


@dataclass
class Failure:
    kind: str  # "429", "500", "timeout", "malformed"
    headers: dict[str, str]


class FakeNetwork:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[Request] = []
        self.failures: list[Failure] = []
        self.timeout_seconds = 3.0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def route(self, method: str, path: str, handler: Handler | Response | Any) -> None:
        """Answer METHOD PATH with a handler, a Response, or a JSON body (200)."""
        if callable(handler):
            self.routes[(method.upper(), path)] = handler
        else:
            fixed = handler if isinstance(handler, Response) else Response(200, handler)
            self.routes[(method.upper(), path)] = lambda request: fixed

    def fail_next(self, kind: str, count: int = 1, headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self.failures.extend(Failure(kind, headers or {}) for _ in range(count))

    def calls(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method.upper() and r.path == path]

    def start(self) -> FakeNetwork:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
                return

            def _serve(self) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    self.command,
                    url.path,
                    parse_qs(url.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                with fake._lock:
                    fake.requests.append(request)
                    failure = fake.failures.pop(0) if fake.failures else None
                if failure is not None:
                    if failure.kind == "timeout":
                        time.sleep(fake.timeout_seconds)
                        response = Response(504, {"error": "timeout"})
                    elif failure.kind == "malformed":
                        response = Response(200, "{not json", {"Content-Type": "application/json"})
                    else:
                        response = Response(
                            int(failure.kind), {"error": failure.kind}, failure.headers
                        )
                else:
                    handler = fake.routes.get((self.command, url.path))
                    response = (
                        handler(request) if handler else Response(404, {"error": "not found"})
                    )
                self._send(response)

            def _send(self, response: Response) -> None:
                body = response.body
                headers = dict(response.headers)
                if isinstance(body, dict | list) or body is None:
                    data = json.dumps(body).encode()
                    headers.setdefault("Content-Type", "application/json")
                else:
                    data = body.encode() if isinstance(body, str) else body
                try:
                    self.send_response(response.status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to tell it

            do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815

        return _Handler


@pytest.fixture
def fake_network() -> Iterator[FakeNetwork]:
    fake = FakeNetwork().start()
    try:
        yield fake
    finally:
        fake.stop()
