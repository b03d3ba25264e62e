"""The Bluesky connector's whole round trip against the official development network.

Residents (alice, carol) post with plain XRPC calls to the PDS; the desk's side is the
product's own code: do_fetch, the connector's publish/delete/find_post, the sender and the
recovery of interrupted sends. Nothing here is faked.
"""

from __future__ import annotations

import datetime as dt
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from beatdesk.inbox.models import Message
from beatdesk.networks.actions import do_fetch
from beatdesk.networks.base import MediaItem, PostOptions
from beatdesk.networks.bluesky.inbound import BlueskyNetwork, read_cursor
from beatdesk.networks.bluesky.publish import iso_now, record_key
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import connector
from beatdesk.publishing import actions as publishing_actions
from beatdesk.publishing import delivery
from beatdesk.publishing.models import Post
from beatdesk.publishing.sender import do_send, post_options

pytestmark = [pytest.mark.interop, pytest.mark.django_db]
DESK_HANDLE = "westmerepolice.bsky.social"  # the demo force's Bluesky account
WAIT_S = 30.0


class Resident:
    """Someone on Bluesky, posting straight to the PDS."""

    def __init__(self, pds: str, account: dict[str, str]) -> None:
        self.pds = pds
        self.did = account["did"]
        self.handle = account["handle"]
        answer = self.xrpc(
            "POST",
            "com.atproto.server.createSession",
            body={"identifier": account["handle"], "password": account["app_password"]},
        )
        self.token = answer["accessJwt"]

    def xrpc(
        self, method: str, nsid: str, *, params: Any = None, body: Any = None, token: str = ""
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token or getattr(self, 'token', '')}"}
        if not headers["Authorization"].strip().removeprefix("Bearer"):
            headers = {}
        response = httpx.request(
            method, f"{self.pds}/xrpc/{nsid}", params=params, json=body, headers=headers
        )
        assert response.status_code == 200, (nsid, response.status_code, response.text)
        return dict(response.json())

    def mention(self, desk: dict[str, str], text: str, created: dt.datetime) -> str:
        """A post mentioning the desk (with the mention facet an app adds); its uri."""
        handle = f"@{desk['handle']}"
        full = f"{handle} {text}"
        facet = {
            "index": {"byteStart": 0, "byteEnd": len(handle.encode())},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": desk["did"]}],
        }
        record = {
            "$type": "app.bsky.feed.post",
            "text": full,
            "createdAt": iso_now(created),
            "facets": [facet],
        }
        answer = self.xrpc(
            "POST",
            "com.atproto.repo.createRecord",
            body={"repo": self.did, "collection": "app.bsky.feed.post", "record": record},
        )
        return str(answer["uri"])


def record_of(pds: str, uri: str) -> dict[str, Any] | None:
    """A record as its PDS holds it (None once deleted)."""
    repo, collection, rkey = uri.removeprefix("at://").split("/")
    response = httpx.get(
        f"{pds}/xrpc/com.atproto.repo.getRecord",
        params={"repo": repo, "collection": collection, "rkey": rkey},
    )
    if response.status_code == 400 and "RecordNotFound" in response.text:
        return None
    assert response.status_code == 200, response.text
    return dict(response.json())


def eventually(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"not within {WAIT_S:g}s: {what}")
        time.sleep(0.2)


def png(width: int, height: int) -> bytes:
    """A real (tiny) PNG, so the PDS's own sniffing sees an image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xc0\x10\x10" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def desk(devnet, account) -> NetworkAccount:
    police = devnet["accounts"]["police"]
    acc = account(DESK_HANDLE)
    acc.set_credentials(
        {
            "service": devnet["pds"],
            "identifier": police["handle"],
            "app_password": police["app_password"],
        }
    )
    acc.cursor = ""
    acc.save()
    return acc


@pytest.fixture
def alice(devnet) -> Resident:
    return Resident(devnet["pds"], devnet["accounts"]["alice"])


def fetch_until_stored(acc: NetworkAccount, uri: str) -> Message:
    def stored() -> Message | None:
        do_fetch(acc, force=True)
        return Message.objects.filter(network="bluesky", external_id=uri).first()

    return eventually(stored, f"{uri} fetched and stored")


def test_fetch_reply_facets_image_and_delete(devnet, desk, alice):
    police = devnet["accounts"]["police"]
    uri = alice.mention(
        police, "the streetlight on Mill Lane is out again", dt.datetime.now(dt.UTC)
    )
    message = fetch_until_stored(desk, uri)
    assert message.author_handle == f"@{alice.handle}"
    assert "streetlight on Mill Lane" in message.text

    network = BlueskyNetwork()
    text = "Thanks @alice-w.test — reported: https://westmere.police.example/lights/42 #Westmere"
    reply_uri = network.publish(desk, text, PostOptions(reply_to=message.external_id))
    reply = record_of(devnet["pds"], reply_uri)
    assert reply is not None
    value = reply["value"]
    assert value["reply"]["parent"]["uri"] == uri
    assert value["reply"]["root"]["uri"] == uri
    encoded = text.encode()
    spans = {
        f["features"][0]["$type"].rsplit("#", 1)[1]: encoded[
            f["index"]["byteStart"] : f["index"]["byteEnd"]
        ].decode()
        for f in value["facets"]
    }
    assert spans == {
        "mention": "@alice-w.test",
        "link": "https://westmere.police.example/lights/42",
        "tag": "#Westmere",
    }
    mention = next(f for f in value["facets"] if "mention" in f["features"][0]["$type"])
    assert mention["features"][0]["did"] == alice.did
    # Alice sees the desk's answer under her post, as the AppView shows it.
    thread = eventually(
        lambda: [
            r
            for r in alice.xrpc("GET", "app.bsky.feed.getPostThread", params={"uri": uri})[
                "thread"
            ].get("replies", [])
            if r.get("post", {}).get("uri") == reply_uri
        ],
        "the reply indexed under alice's post",
    )
    assert thread[0]["post"]["author"]["did"] == police["did"]

    image = png(3, 2)
    photo_uri = network.publish(
        desk,
        "Have you seen this bike?",
        PostOptions(
            media=(MediaItem(image, "bike.png", "image/png", "A red bicycle by railings"),)
        ),  # noqa: E501
    )
    photo = record_of(devnet["pds"], photo_uri)
    assert photo is not None
    [embedded] = photo["value"]["embed"]["images"]
    assert embedded["alt"] == "A red bicycle by railings"
    assert embedded["aspectRatio"] == {"width": 3, "height": 2}
    assert embedded["image"]["mimeType"] == "image/png"
    assert embedded["image"]["size"] == len(image)
    viewed = eventually(
        lambda: alice.xrpc("GET", "app.bsky.feed.getPosts", params={"uris": photo_uri})["posts"],
        "the photo post indexed",
    )
    assert viewed[0]["embed"]["images"][0]["alt"] == "A red bicycle by railings"

    network.delete_post(desk, photo_uri)
    assert record_of(devnet["pds"], photo_uri) is None
    assert network.find_post(desk, photo_uri.rsplit("/", 1)[1]) is None


def test_a_backdated_mention_is_not_lost(devnet, desk, alice):
    police = devnet["accounts"]["police"]
    first = alice.mention(police, "is the A38 open yet?", dt.datetime.now(dt.UTC))
    fetch_until_stored(desk, first)
    desk.refresh_from_db()
    position = read_cursor(desk.cursor)
    assert position is not None

    # Written an hour ago on a phone without signal, delivered only now.
    late = alice.mention(
        police,
        "written on the train: a car parked across the cycle lane at the station",
        dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    message = fetch_until_stored(desk, late)
    assert "cycle lane" in message.text
    # The AppView put it behind what the desk had already read: the case that was lost.
    desk_side = Resident(devnet["pds"], police)
    listed = desk_side.xrpc("GET", "app.bsky.notification.listNotifications", params={"limit": 50})
    [item] = [n for n in listed["notifications"] if n["uri"] == late]
    assert dt.datetime.fromisoformat(item["indexedAt"].replace("Z", "+00:00")) < position.at
    assert Message.objects.filter(network="bluesky", external_id=late).count() == 1


def test_threads_through_the_desk_never_break(devnet, desk, users):
    """Each part is sent the moment the one before is out, as the immediate backend does:
    the part before is not yet on the AppView when the next part answers it."""
    sentences = [
        "The A38 is closed northbound between Mill Lane and the ring road after a collision.",
        "Diversions are signed via Abbeyfield Road and Station Street; expect delays.",
        "Please avoid the area if you can, and do not stop to film the scene.",
        "We will post again here when the road reopens. Thank you for your patience.",
    ]
    text = " ".join(sentences * 2)
    for attempt in range(10):
        parts = publishing_actions.check_compose(
            users["sgt.hughes"],
            text=f"({attempt + 1}) {text}",
            kind="event",
            account_ids=[desk.pk],
            send="now",
            thread=True,
        )
        assert len(parts) >= 3
        for part in sorted(parts, key=lambda p: p.part):
            sent = do_send(part)
            assert sent.status == Post.Status.SENT, (attempt, sent.part, sent.error)
        chain = [Post.objects.get(pk=p.pk).external_id for p in sorted(parts, key=lambda p: p.part)]
        records = [record_of(devnet["pds"], uri) for uri in chain]
        for number, found in enumerate(records[1:], start=1):
            assert found is not None
            assert found["value"]["reply"]["parent"]["uri"] == chain[number - 1]
            assert found["value"]["reply"]["root"]["uri"] == chain[0]


def test_an_interrupted_send_is_recovered_by_its_record_key(devnet, desk, users):
    network = BlueskyNetwork()
    # The PDS took the post but the answer was lost; the worker then died.
    (taken,) = publishing_actions.check_compose(
        users["sgt.hughes"],
        text="Lost answer: the library event is on.",
        kind="event",
        account_ids=[desk.pk],
        send="draft",
    )
    uri = network.publish(desk, taken.text, post_options(taken))
    # This one never reached the PDS before the worker died.
    (never,) = publishing_actions.check_compose(
        users["sgt.hughes"],
        text="Never sent: the surgery is at 6pm.",
        kind="event",
        account_ids=[desk.pk],
        send="draft",
    )
    ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    Post.objects.filter(pk__in=[taken.pk, never.pk]).update(
        status=Post.Status.SENDING, claimed_at=ago
    )
    outcomes = {r.post_id: r.outcome for r in delivery.recover_stuck_posts()}
    assert outcomes == {taken.pk: "found", never.pk: "resent"}
    taken.refresh_from_db()
    assert taken.status == Post.Status.SENT and taken.external_id == uri

    never.refresh_from_db()
    if never.status != Post.Status.SENT:  # the queue did not run it inline: send it now
        never = do_send(never)
    assert never.status == Post.Status.SENT
    assert never.external_id.endswith("/" + record_key(post_options(never)))
    # A send that failed after the PDS took it is found, not posted twice.
    (failed,) = publishing_actions.check_compose(
        users["sgt.hughes"],
        text="Timed out: the footpath is open.",
        kind="event",
        account_ids=[desk.pk],
        send="draft",
    )
    first = network.publish(desk, failed.text, post_options(failed))
    Post.objects.filter(pk=failed.pk).update(status=Post.Status.FAILED, error="timeout")
    failed.refresh_from_db()
    assert do_send(failed).external_id == first
    police = devnet["accounts"]["police"]
    listed = Resident(devnet["pds"], police).xrpc(
        "GET",
        "com.atproto.repo.listRecords",
        params={"repo": police["did"], "collection": "app.bsky.feed.post", "limit": 100},
    )["records"]
    assert [r["value"]["text"] for r in listed].count(failed.text) == 1


def test_sessions_are_kept_across_processes_within_the_pds_limits(devnet, desk):
    # The PDS allows 30 createSession calls per 5 minutes for one identifier.
    carol = devnet["accounts"]["carol"]
    statuses = [
        httpx.post(
            f"{devnet['pds']}/xrpc/com.atproto.server.createSession",
            json={"identifier": carol["handle"], "password": carol["app_password"]},
        ).status_code
        for _ in range(31)
    ]
    assert statuses[-1] == 429, statuses

    # 40 runs of `poll --once` from cron: each a new process, a new connector.
    for _run in range(40):
        connector.cache_clear()
        outcome = do_fetch(NetworkAccount.objects.get(pk=desk.pk), force=True)
        assert outcome.status == "fetched", outcome.detail

    # A token the PDS no longer takes is refreshed (refreshSession), and the new session kept.
    acc = NetworkAccount.objects.get(pk=desk.pk)
    credentials = acc.get_credentials()
    kept = credentials["session"]
    credentials["session"] = {**kept, "accessJwt": kept["accessJwt"][:-4] + "AAAA"}
    acc.set_credentials(credentials)
    acc.save()
    connector.cache_clear()  # the next process
    assert do_fetch(NetworkAccount.objects.get(pk=desk.pk), force=True).status == "fetched"
    renewed = NetworkAccount.objects.get(pk=desk.pk).get_credentials()["session"]
    assert renewed["refreshJwt"] != kept["refreshJwt"]
    assert renewed["accessJwt"] not in (kept["accessJwt"], credentials["session"]["accessJwt"])
