"""Mastodon, Bluesky and X as publishing sees them, on a FakeNetwork: they keep what was
posted, so a test can count what each network received. Each can hang on its first post
(after storing it, as a network whose answer is lost does) until released."""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path
from typing import Any

from beatdesk.testing.fakenet import FakeNetwork, Request, Response

NETWORKS = Path(__file__).resolve().parents[2] / "networks"
BSKY_SESSION = json.loads((NETWORKS / "bluesky/fixtures/create_session.json").read_text())
BSKY_DID = BSKY_SESSION["did"]
MASTODON_STATUS = json.loads((NETWORKS / "mastodon/fixtures/status_created.json").read_text())
MASTODON_MEDIA = json.loads((NETWORKS / "mastodon/fixtures/media_attachment.json").read_text())


class Hang:
    """Hold the first post's answer until released (or the test ends)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.reached = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> None:
        if self.enabled:
            self.enabled = False
            self.reached.set()
            self.release.wait(120)


class FakeMastodon:
    """Statuses by id; Idempotency-Key honoured as Mastodon does (same key, same status)."""

    def __init__(self, fake: FakeNetwork, *, hang_first: bool = False) -> None:
        self.fake = fake
        self.statuses: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, str] = {}
        self.hang = Hang(hang_first)
        self._ids = itertools.count(114166070000001000)
        self._lock = threading.Lock()
        fake.route("POST", "/api/v1/statuses", self._create)
        fake.route("POST", "/api/v2/media", Response(200, MASTODON_MEDIA))

    def _create(self, request: Request) -> Response:
        body = request.json()
        key = request.headers.get("idempotency-key", "")
        with self._lock:
            if key and key in self.keys:
                return Response(200, self.statuses[self.keys[key]])
            status_id = str(next(self._ids))
            status = dict(
                MASTODON_STATUS,
                id=status_id,
                content=f"<p>{body['status']}</p>",
                in_reply_to_id=body.get("in_reply_to_id"),
                media_ids=body.get("media_ids", []),
                visibility=body.get("visibility", "public"),
            )
            self.statuses[status_id] = status
            if key:
                self.keys[key] = status_id
        path = f"/api/v1/statuses/{status_id}"
        self.fake.route("GET", path, lambda r: Response(200, self.statuses[status_id]))
        self.fake.route("PUT", path, lambda r: self._edit(status_id, r))
        self.fake.route("DELETE", path, lambda r: Response(200, self.statuses.pop(status_id)))
        self.hang()
        return Response(200, status)

    def _edit(self, status_id: str, request: Request) -> Response:
        self.statuses[status_id]["content"] = f"<p>{request.json()['status']}</p>"
        return Response(200, self.statuses[status_id])

    def texts(self) -> list[str]:
        return [s["content"][3:-4] for s in self.statuses.values()]

    def credentials(self) -> dict[str, str]:
        return {"instance": self.fake.base_url, "access_token": "tok"}


class FakeBluesky:
    """A PDS: a session, and app.bsky.feed.post records by record key."""

    def __init__(self, fake: FakeNetwork, *, hang_first: bool = False) -> None:
        self.fake = fake
        self.records: dict[str, dict[str, Any]] = {}
        self.hang = Hang(hang_first)
        self._tids = itertools.count(1)
        self._lock = threading.Lock()
        fake.route("POST", "/xrpc/com.atproto.server.createSession", Response(200, BSKY_SESSION))
        fake.route("POST", "/xrpc/com.atproto.repo.createRecord", self._create)
        fake.route("GET", "/xrpc/com.atproto.repo.getRecord", self._get)
        fake.route("POST", "/xrpc/com.atproto.repo.deleteRecord", self._delete)

    def _uri(self, rkey: str) -> str:
        return f"at://{BSKY_DID}/app.bsky.feed.post/{rkey}"

    def _create(self, request: Request) -> Response:
        body = request.json()
        with self._lock:
            rkey = body.get("rkey") or f"3lrntbr{next(self._tids):06d}"
            if rkey in self.records:  # today's PDS answers 500 to a duplicate record key
                return Response(500, {"error": "InternalServerError"})
            self.records[rkey] = body["record"]
        self.hang()
        return Response(200, {"uri": self._uri(rkey), "cid": f"bafyrei{rkey}"})

    def _get(self, request: Request) -> Response:
        rkey = request.param("rkey") or ""
        if rkey not in self.records:
            return Response(
                400, {"error": "RecordNotFound", "message": f"Could not locate record: {rkey}"}
            )
        return Response(
            200, {"uri": self._uri(rkey), "cid": f"bafyrei{rkey}", "value": self.records[rkey]}
        )

    def _delete(self, request: Request) -> Response:
        self.records.pop(request.json()["rkey"], None)
        return Response(200, {"commit": {"cid": "bafyreidel", "rev": "3l5hoaezbz7g5"}})

    def texts(self) -> list[str]:
        return [r["text"] for r in self.records.values()]

    def credentials(self) -> dict[str, str]:
        return {
            "service": self.fake.base_url,
            "identifier": BSKY_SESSION["handle"],
            "app_password": "abcd-efgh-ijkl-mnop",
        }


class FakeX:
    """POST /2/tweets and the account's own timeline (GET /2/users/:id/tweets)."""

    USER_ID = "1500000000000000001"

    def __init__(self, fake: FakeNetwork, *, hang_first: bool = False) -> None:
        self.fake = fake
        self.tweets: dict[str, str] = {}
        self.hang = Hang(hang_first)
        self._ids = itertools.count(1767000000000000001)
        fake.route("POST", "/2/tweets", self._create)
        fake.route("GET", f"/2/users/{self.USER_ID}/tweets", self._timeline)

    def _create(self, request: Request) -> Response:
        tweet_id = str(next(self._ids))
        self.tweets[tweet_id] = request.json()["text"]
        self.fake.route("DELETE", f"/2/tweets/{tweet_id}", lambda r: self._delete(tweet_id))
        self.hang()
        return Response(201, {"data": {"id": tweet_id, "text": self.tweets[tweet_id]}})

    def _delete(self, tweet_id: str) -> Response:
        self.tweets.pop(tweet_id, None)
        return Response(200, {"data": {"deleted": True}})

    def _timeline(self, request: Request) -> Response:
        data = [{"id": i, "text": t} for i, t in sorted(self.tweets.items(), reverse=True)]
        return Response(200, {"data": data, "meta": {"result_count": len(data)}})

    def credentials(self) -> dict[str, str]:
        return {
            "api_base": self.fake.base_url,
            "user_access_token": "user-token",
            "bearer_token": "app-token",
            "user_id": self.USER_ID,
        }
