"""Mastodon's streaming API: mentions the moment they are posted.

On every connection, first a REST back-fill from the account's cursor (the same fetch the
poller does), then the server-sent events of /api/v1/streaming/user/notification. Whatever
the stream missed while disconnected, the next back-fill brings; ingestion drops what
arrives twice, and only the back-fill moves the cursor.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import httpx

from beatdesk.networks.actions import backoff_seconds, do_fetch
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.receiver import receive

STREAM_PATH = "/api/v1/streaming/user/notification"


def events(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """(event, data) pairs from server-sent-event lines."""
    event = ""
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield event or "message", "\n".join(data)
            event, data = "", []
        elif line.startswith(":"):
            continue  # a heartbeat comment
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        yield event or "message", "\n".join(data)


def listen(
    account: NetworkAccount,
    *,
    connections: int | None = None,
    on_event: Callable[[str], None] = lambda status: None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Stream until stopped (or for `connections` connections). Returns mentions taken."""
    taken, failures, made = 0, 0, 0
    while connections is None or made < connections:
        made += 1
        do_fetch(account, force=True)  # the back-fill after every (re)connect
        creds = account.get_credentials()
        try:
            with (
                # Connect within 5 s; then wait as long as it takes (heartbeats every ~15 s).
                httpx.Client(
                    base_url=str(creds.get("instance") or ""),
                    timeout=httpx.Timeout(5.0, read=90.0),
                ) as http,
                http.stream(
                    "GET",
                    STREAM_PATH,
                    headers={
                        "Authorization": f"Bearer {creds.get('access_token', '')}",
                        "Accept": "text/event-stream",
                    },
                ) as response,
            ):
                if response.status_code != 200:
                    raise httpx.HTTPStatusError(
                        f"stream answered {response.status_code}",
                        request=response.request,
                        response=response,
                    )
                failures = 0
                for event, data in events(response.iter_lines()):
                    if event != "notification":
                        continue
                    try:
                        kind = json.loads(data).get("type")
                    except (ValueError, AttributeError):
                        kind = None
                    if kind == "mention":
                        result = receive(account, data)
                        taken += result.status == "stored"
                        on_event(result.status)
        except (httpx.HTTPError, OSError) as exc:
            failures += 1
            on_event(f"disconnected: {type(exc).__name__}")
            sleep(backoff_seconds(failures))
    return taken
