"""The Bluesky connector: mentions, replies and quotes in; posts, replies, images and threads out.

Talks the AT Protocol's XRPC HTTP API to the account's PDS (credentials `service`, default
https://bsky.social), signing in with an app password:

    {"service": "https://bsky.social", "identifier": "westmerepolice.bsky.social",
     "app_password": "xxxx-xxxx-xxxx-xxxx"}

Fetching reads app.bsky.notification.listNotifications (mentions, replies and quotes only),
which answers newest first and whose own cursor pages towards *older* items. Its order (and
each item's indexedAt) is the AppView's sort time: the post's own createdAt when that is
earlier than when the AppView indexed it. So a mention written offline, sent from a skewed
clock or delayed in federation arrives *behind* items already read, and a position ("all
before this time is done") would lose it for good. A fetch therefore pages back over an
OVERLAP window before the newest item it has read (at most MAX_PAGES pages of PAGE_SIZE)
and takes every mention, reply and quote in it that it has not handed over before. Our
cursor is JSON: {"at": the newest sort time read, "seen": {uri fingerprint: sort time}} for
what was handed over inside the window. Storage is idempotent besides (ingestion drops a
message it already has), so a cursor from before this scheme (a bare time) or a lost one
only hands some items over twice. The very first fetch (empty cursor) takes one page only:
the most recent notifications, not the account's history: when that page is full, its
oldest time is kept in the cursor as `start`, and no later fetch reaches behind it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from beatdesk.core.clock import now
from beatdesk.networks.base import (
    NO_OPTIONS,
    Budget,
    FetchResult,
    Field,
    Inbound,
    LostSend,
    Network,
    NetworkRefused,
    PayloadError,
    PostCounts,
    PostOptions,
    Recovery,
    TransientError,
    count_of,
    parse_time,
    read_json,
)
from beatdesk.networks.bluesky.client import (
    GET_POSTS_LIMIT,
    Credentials,
    XrpcClient,
    get_posts,
    get_profile,
)
from beatdesk.networks.bluesky.publish import (
    POST_TYPE,
    Image,
    ThreadInterrupted,
    check_images,
    check_length,
    detect_facets,
    images_embed,
    post_record,
    record_key,
    reply_refs,
)
from beatdesk.networks.bluesky.search import read as read_found_post
from beatdesk.networks.bluesky.search import search as search_posts
from beatdesk.networks.bluesky.sessions import account_credentials
from beatdesk.networks.length import Counting
from beatdesk.networks.search import FoundPost, SearchResult, SearchTerm

if TYPE_CHECKING:
    from beatdesk.networks.models import NetworkAccount

PAGE_SIZE = 50
MAX_PAGES = 10
OVERLAP = dt.timedelta(hours=24)  # how far back a backdated post is still found
MAX_SEEN = 2 * MAX_PAGES * PAGE_SIZE  # what the cursor remembers at most
TAKEN_REASONS = frozenset({"mention", "reply", "quote"})
_REMEMBERED_PUBLISHES = 1000


def _fingerprint(uri: str) -> str:
    return hashlib.sha256(uri.encode()).hexdigest()[:16]


@dataclass
class Position:
    """Where fetching stands: the newest sort time read (`at`), what was handed over inside
    the window before it ({uri fingerprint: sort time}), and, after a first fetch, the oldest
    time it read (`start`): anything older is the account's history, never taken."""

    at: dt.datetime
    seen: dict[str, int] = field(default_factory=dict)
    start: dt.datetime | None = None

    @property
    def horizon(self) -> dt.datetime:
        """How far back a fetch looks: OVERLAP before `at`, never before `start`."""
        back = self.at - OVERLAP
        return max(back, self.start) if self.start is not None else back


def _stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def read_cursor(cursor: str) -> Position | None:
    """Our cursor, read; None (a first fetch) when it is empty or unreadable. A bare time
    (the cursor before the overlap window) says nothing of what was handed over."""
    if not cursor:
        return None
    try:
        data = json.loads(cursor)
    except ValueError:
        data = {"at": cursor}
    if not isinstance(data, dict):
        return None
    try:
        at = parse_time(str(data.get("at") or ""))
        start = parse_time(str(data["start"])) if data.get("start") else None
    except PayloadError:
        return None
    seen = data.get("seen")
    kept = (
        {str(k): v for k, v in seen.items() if isinstance(v, int)} if isinstance(seen, dict) else {}
    )
    return Position(at, kept, start)


def write_cursor(position: Position) -> str:
    """The cursor, remembering only what lies inside the window before `at`."""
    horizon = position.horizon
    seen = {k: v for k, v in position.seen.items() if v >= int(horizon.timestamp())}
    if len(seen) > MAX_SEEN:
        seen = dict(sorted(seen.items(), key=lambda pair: pair[1])[-MAX_SEEN:])
    data: dict[str, Any] = {"at": _stamp(position.at), "seen": dict(sorted(seen.items()))}
    if position.start is not None and position.start > position.at - OVERLAP:
        data["start"] = _stamp(position.start)
    return json.dumps(data, separators=(",", ":"))


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _ref_uri(reply: Any, which: str) -> str:
    if not isinstance(reply, dict):
        return ""
    ref = reply.get(which)
    return _str(ref.get("uri")) if isinstance(ref, dict) else ""


def _media(embed: Any) -> list[dict[str, Any]]:
    """Attachments described by a post's embed (images, video, a link card)."""
    if not isinstance(embed, dict):
        return []
    kind = embed.get("$type")
    if kind == "app.bsky.embed.images":
        images = embed.get("images")
        found: list[dict[str, Any]] = []
        for image in images if isinstance(images, list) else []:
            if not isinstance(image, dict):
                continue
            attachment: dict[str, Any] = {"type": "image", "alt": _str(image.get("alt"))}
            blob = image.get("image")
            if isinstance(blob, dict):
                ref = blob.get("ref")
                if isinstance(ref, dict) and isinstance(ref.get("$link"), str):
                    attachment["cid"] = ref["$link"]
                if isinstance(blob.get("mimeType"), str):
                    attachment["mime_type"] = blob["mimeType"]
            found.append(attachment)
        return found
    if kind == "app.bsky.embed.video":
        return [{"type": "video", "alt": _str(embed.get("alt"))}]
    if kind == "app.bsky.embed.external":
        external = embed.get("external")
        if isinstance(external, dict) and isinstance(external.get("uri"), str):
            return [{"type": "link", "url": external["uri"], "title": _str(external.get("title"))}]
        return []
    if kind == "app.bsky.embed.recordWithMedia":
        return _media(embed.get("media"))
    return []


class BlueskyNetwork(Network):
    kind = "bluesky"
    label = "Bluesky"
    can_fetch = True
    can_publish = True
    can_thread = True
    can_upload_media = True
    can_delete = True  # com.atproto.repo.deleteRecord; Bluesky offers no edit
    can_count_reach = True
    can_search = True
    watch_kinds = frozenset({"hashtag", "keyword", "phrase"})
    search_needs_account = True
    recovery_guarantee = (
        "Exactly once: the record key is fixed in advance, so the post is looked up before "
        "it is ever sent again."
    )
    counting = Counting(limit=300)
    credential_fields = (
        Field("service", "Service, e.g. https://bsky.social"),
        Field("identifier", "Handle or DID"),
        Field("app_password", "App password", secret=True),
    )

    def __init__(self, client: XrpcClient | None = None) -> None:
        self.client = client or XrpcClient()
        # idempotency key -> uri of the post it made, for retries within this process.
        self._published: OrderedDict[tuple[int | None, str], str] = OrderedDict()
        self._published_lock = threading.Lock()

    # -- the contract (networks/base.py) ---------------------------------------------------

    def publish(self, account: NetworkAccount, text: str, options: PostOptions = NO_OPTIONS) -> str:
        """Post with the record key fixed by the options (record_key), so a send whose
        answer was lost can be looked up rather than repeated."""
        return self.post(
            account,
            text,
            options.reply_to,
            idempotency_key=options.idempotency_key,
            images=[(m.data, m.content_type, m.alt_text) for m in options.media],
            rkey=record_key(options),
        )

    def sent_before(self, account: NetworkAccount, options: PostOptions) -> str:
        return self.find_post(account, record_key(options)) or ""

    def recover(self, account: NetworkAccount, lost: LostSend) -> Recovery:
        uri = self.find_post(account, record_key(lost.options))
        if uri:
            return Recovery("found", "a record with its key", uri)
        return Recovery("resend", "no record with its key: sent with the same key")

    def delete(self, account: NetworkAccount, external_id: str) -> None:
        self.delete_post(account, external_id)

    def search(self, term: SearchTerm) -> SearchResult:
        return search_posts(self.client, term)

    def read_found(self, raw: str) -> FoundPost:
        return read_found_post(raw)

    def follower_count(self, account: NetworkAccount) -> int:
        credentials = account_credentials(account)
        return count_of(get_profile(self.client, credentials).get("followersCount"))

    def post_counts(
        self, account: NetworkAccount, external_ids: list[str]
    ) -> dict[str, PostCounts]:
        credentials = account_credentials(account)
        counts = {}
        for start in range(0, len(external_ids), GET_POSTS_LIMIT):
            uris = external_ids[start : start + GET_POSTS_LIMIT]
            for view in get_posts(self.client, credentials, uris):
                counts[str(view.get("uri"))] = PostCounts(
                    reposts=count_of(view.get("repostCount")),
                    likes=count_of(view.get("likeCount")),
                    replies=count_of(view.get("replyCount")),
                )
        return counts

    # -- in ---------------------------------------------------------------------------------

    def normalise(self, body: str) -> Inbound:
        item = read_json(body, "a Bluesky notification")
        if not isinstance(item, dict):
            raise PayloadError("a Bluesky notification must be a JSON object")
        reason = item.get("reason")
        if not isinstance(reason, str) or reason not in TAKEN_REASONS:
            raise PayloadError(
                f"Bluesky notification reason {reason!r} is not taken "
                f"(only {', '.join(sorted(TAKEN_REASONS))})"
            )
        uri = item.get("uri")
        if not isinstance(uri, str) or not uri.startswith("at://"):
            raise PayloadError("a Bluesky notification needs an at:// 'uri'")
        author = item.get("author")
        handle = author.get("handle") if isinstance(author, dict) else None
        if not isinstance(handle, str) or not handle:
            raise PayloadError("a Bluesky notification needs an 'author' with a 'handle'")
        record = item.get("record")
        if not isinstance(record, dict):
            raise PayloadError("a Bluesky notification needs its post 'record'")
        if record.get("$type") != POST_TYPE:
            raise PayloadError(f"record type {record.get('$type')!r} is not {POST_TYPE}")
        text = record.get("text")
        attachments = _media(record.get("embed"))
        if not isinstance(text, str) or not (text.strip() or attachments):
            raise PayloadError("a Bluesky post needs 'text' (or media)")
        created = record.get("createdAt") or item.get("indexedAt")
        if created in (None, ""):
            raise PayloadError("a Bluesky post needs 'createdAt'")
        langs = record.get("langs")
        language = langs[0] if isinstance(langs, list) and langs else ""
        assert isinstance(author, dict)
        return Inbound(
            network=self.kind,
            external_id=uri[:200],
            author_handle=f"@{handle}"[:200],
            author_name=_str(author.get("displayName"))[:200],
            text=text,
            created_at=parse_time(created),
            reply_to=_ref_uri(record.get("reply"), "parent")[:200],
            thread_id=_ref_uri(record.get("reply"), "root")[:200],
            language=_str(language)[:16],
            attachments=attachments,
        )

    def fetch(self, account: NetworkAccount, cursor: str) -> FetchResult:
        credentials = account_credentials(account)
        position = read_cursor(cursor)
        horizon = position.horizon if position is not None else None
        seen = dict(position.seen) if position is not None else {}
        taken: dict[str, tuple[dt.datetime, str]] = {}
        newest = position.at if position is not None else None
        oldest: dt.datetime | None = None
        full = False
        budget = Budget()
        api_cursor = ""
        for _page in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": PAGE_SIZE, "reasons": sorted(TAKEN_REASONS)}
            if api_cursor:
                params["cursor"] = api_cursor
            _session, reply = self.client.authed(
                credentials, "GET", "app.bsky.notification.listNotifications", params=params
            )
            if reply.budget.limit is not None or budget.limit is None:
                budget = reply.budget  # a page without rate headers says nothing new
            notifications = reply.data.get("notifications")
            if not isinstance(notifications, list):
                raise TransientError("Bluesky listNotifications: no 'notifications' list")
            reached = False
            for item in notifications:
                if not isinstance(item, dict) or not isinstance(item.get("indexedAt"), str):
                    continue  # cannot be placed in time: skipped, never a reason to stop
                try:
                    at = parse_time(str(item["indexedAt"]))
                except PayloadError:
                    continue
                if horizon is not None and at < horizon:
                    reached = True
                    continue
                newest = at if newest is None else max(newest, at)
                oldest = at if oldest is None else min(oldest, at)
                uri = item.get("uri")
                if (
                    item.get("reason") in TAKEN_REASONS
                    and isinstance(uri, str)
                    and _fingerprint(uri) not in seen
                ):
                    taken.setdefault(uri, (at, json.dumps(item, ensure_ascii=False)))
            api_cursor = _str(reply.data.get("cursor"))
            full = len(notifications) >= PAGE_SIZE and bool(api_cursor)
            if reached or position is None or not notifications or not api_cursor:
                break
        ordered = sorted(taken.items(), key=lambda pair: (pair[1][0], pair[0]))
        for uri, (at, _body) in ordered:
            seen[_fingerprint(uri)] = int(at.timestamp())
        if newest is None:
            return FetchResult(bodies=[], cursor=cursor, budget=budget)
        # A first fetch that left older notifications unread (a full page) marks where the
        # account's history begins; later fetches never reach behind it.
        start = position.start if position is not None else (oldest if full else None)
        return FetchResult(
            bodies=[body for _uri, (_at, body) in ordered],
            cursor=write_cursor(Position(newest, seen, start)),
            budget=budget,
        )

    # -- out --------------------------------------------------------------------------------

    def post(
        self,
        account: NetworkAccount,
        text: str,
        reply_to: str = "",
        *,
        idempotency_key: str = "",
        images: list[Image] | None = None,
        rkey: str = "",
    ) -> str:
        """Post `text` (a reply when `reply_to` is a post's at:// uri); the new post's uri.

        At most 300 graphemes / 3000 bytes (ValueError otherwise). `images` are (data, MIME
        type, alt text): at most 4, each at most 1,000,000 bytes, each with alt text
        (ValueError otherwise, before any request); each is uploaded with uploadBlob and
        the post embeds them (the text may then be empty). The AT Protocol has no
        idempotent create: `idempotency_key` only stops a repeat within this process from
        posting twice; a call whose answer was lost may still have posted."""
        images = list(images or [])
        check_length(text, allow_empty=bool(images))
        check_images(images)
        if reply_to and not reply_to.startswith("at://"):
            raise ValueError(f"a Bluesky reply needs the at:// uri of a post, not {reply_to!r}")
        remembered = (account.pk, idempotency_key)
        if idempotency_key:
            with self._published_lock:
                if remembered in self._published:
                    return self._published[remembered]
        credentials = account_credentials(account)
        self.client.session(credentials)
        reply = self._reply_refs(credentials, reply_to) if reply_to else None
        embed = self._upload_images(credentials, images) if images else None
        uri, _cid = self._create_post(credentials, text, reply=reply, embed=embed, rkey=rkey)
        if idempotency_key:
            with self._published_lock:
                self._published[remembered] = uri
                while len(self._published) > _REMEMBERED_PUBLISHES:
                    self._published.popitem(last=False)
        return uri

    def publish_thread(self, account: NetworkAccount, parts: list[str]) -> list[str]:
        """Post `parts` as a thread; the new posts' uris, in order.

        Part 1 is a top-level post; each next part replies to the one before, with the
        thread's root being part 1 (refs taken from createRecord's own answers). Every part
        is checked (300 graphemes, 3000 bytes) before anything is sent. A failure on part 1
        is raised as it is (nothing is posted); a failure on a later part raises
        ThreadInterrupted, whose `posted` holds the uris already on Bluesky."""
        if not parts:
            raise ValueError("a thread needs at least one post")
        for number, part in enumerate(parts, start=1):
            try:
                check_length(part)
            except ValueError as exc:
                raise ValueError(f"part {number} of the thread: {exc}") from exc
        credentials = account_credentials(account)
        posted: list[str] = []
        root: dict[str, str] | None = None
        parent: dict[str, str] | None = None
        for number, part in enumerate(parts, start=1):
            reply = {"root": root, "parent": parent} if root and parent else None
            try:
                uri, cid = self._create_post(credentials, part, reply=reply)
            except (TransientError, NetworkRefused) as exc:
                if not posted:
                    raise  # nothing is on Bluesky yet: the whole thread can simply be retried
                raise ThreadInterrupted(
                    f"Bluesky thread stopped at part {number} of {len(parts)}: {exc}", posted
                ) from exc
            posted.append(uri)
            if not cid and number < len(parts):
                raise ThreadInterrupted(
                    f"Bluesky thread stopped after part {number} of {len(parts)}: "
                    "createRecord did not say the post's cid, needed to reply to it",
                    posted,
                )
            parent = {"uri": uri, "cid": cid}
            root = root or parent
        return posted

    def _upload_images(self, credentials: Credentials, images: list[Image]) -> dict[str, Any]:
        """Upload each image with uploadBlob; the app.bsky.embed.images embed for them."""
        uploaded: list[tuple[dict[str, Any], str, bytes]] = []
        for number, (data, mime_type, alt) in enumerate(images, start=1):
            _session, answer = self.client.authed(
                credentials,
                "POST",
                "com.atproto.repo.uploadBlob",
                content=bytes(data),
                content_type=mime_type,
            )
            blob = answer.data.get("blob")
            ref = blob.get("ref") if isinstance(blob, dict) else None
            if (
                not isinstance(blob, dict)
                or not isinstance(ref, dict)
                or not isinstance(ref.get("$link"), str)
                or not ref["$link"]
            ):
                raise TransientError(
                    f"Bluesky uploadBlob: the answer for image {number} has no blob with a ref"
                )
            uploaded.append((blob, alt.strip(), bytes(data)))
        return images_embed(uploaded)

    def _create_post(
        self,
        credentials: Credentials,
        text: str,
        *,
        reply: dict[str, Any] | None = None,
        embed: dict[str, Any] | None = None,
        rkey: str = "",
    ) -> tuple[str, str]:
        """createRecord for one post (facets detected, mentions resolved); its (uri, cid).

        A caller-chosen `rkey` (a TID) makes the record's uri known before it is sent, so a
        send whose answer was lost can be looked up with find_post instead of posted again."""

        def resolve(handle: str) -> str | None:
            try:
                _s, answer = self.client.authed(
                    credentials,
                    "GET",
                    "com.atproto.identity.resolveHandle",
                    params={"handle": handle},
                )
            except NetworkRefused:
                return None  # no such handle: the mention stays plain text
            did = answer.data.get("did")
            return did if isinstance(did, str) and did.startswith("did:") else None

        record = post_record(
            text, now(), facets=detect_facets(text, resolve), reply=reply, embed=embed
        )
        session = self.client.session(credentials)
        _session, answer = self.client.authed(
            credentials,
            "POST",
            "com.atproto.repo.createRecord",
            body={"repo": session.did, "collection": POST_TYPE, "record": record}
            | ({"rkey": rkey} if rkey else {}),
        )
        uri = answer.data.get("uri")
        if not isinstance(uri, str) or not uri.startswith("at://"):
            raise TransientError("Bluesky createRecord: the answer has no at:// 'uri'")
        cid = answer.data.get("cid")
        return uri, cid if isinstance(cid, str) else ""

    def find_post(self, account: NetworkAccount, rkey: str) -> str | None:
        """The at:// uri of the account's post with record key `rkey`, or None when there is
        none (com.atproto.repo.getRecord answers 400 RecordNotFound)."""
        credentials = account_credentials(account)
        session = self.client.session(credentials)
        try:
            _session, answer = self.client.authed(
                credentials,
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": session.did, "collection": POST_TYPE, "rkey": rkey},
            )
        except NetworkRefused as exc:
            if "RecordNotFound" in str(exc):
                return None
            raise
        uri = answer.data.get("uri")
        return uri if isinstance(uri, str) and uri.startswith("at://") else None

    def delete_post(self, account: NetworkAccount, uri: str) -> None:
        """Delete one of the account's posts (com.atproto.repo.deleteRecord)."""
        credentials = account_credentials(account)
        session = self.client.session(credentials)
        self.client.authed(
            credentials,
            "POST",
            "com.atproto.repo.deleteRecord",
            body={"repo": session.did, "collection": POST_TYPE, "rkey": uri.rsplit("/", 1)[-1]},
        )

    def _reply_refs(self, credentials: Credentials, reply_to: str) -> dict[str, Any]:
        """{root, parent} refs for a reply to `reply_to`.

        The account's own post (a thread's next part answers the part before) is read from
        its PDS with com.atproto.repo.getRecord: the AppView may not have indexed a post
        made a moment ago and would call it missing. Anyone else's is read from the AppView
        (app.bsky.feed.getPosts), which is how the desk saw it."""
        session = self.client.session(credentials)
        repo = reply_to.removeprefix("at://").split("/", 1)[0]
        if repo in (session.did, session.handle):
            return self._own_reply_refs(credentials, session.did, reply_to)
        _session, answer = self.client.authed(
            credentials, "GET", "app.bsky.feed.getPosts", params={"uris": reply_to}
        )
        posts = answer.data.get("posts")
        if not isinstance(posts, list):
            raise TransientError("Bluesky getPosts: no 'posts' list")
        found = [p for p in posts if isinstance(p, dict)]
        # The AppView answers with DID-form uris; a handle-form reply_to matches the only post.
        parent = next((p for p in found if p.get("uri") == reply_to), None)
        if parent is None and len(found) == 1:
            parent = found[0]
        if parent is None:
            raise NetworkRefused(
                f"Bluesky: the post being replied to ({reply_to}) no longer exists or is hidden"
            )
        try:
            return reply_refs(parent)
        except ValueError as exc:
            raise TransientError(f"Bluesky getPosts: {exc}") from exc

    def _own_reply_refs(self, credentials: Credentials, did: str, reply_to: str) -> dict[str, Any]:
        rkey = reply_to.rsplit("/", 1)[-1]
        try:
            _session, answer = self.client.authed(
                credentials,
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": did, "collection": POST_TYPE, "rkey": rkey},
            )
        except NetworkRefused as exc:
            if "RecordNotFound" in str(exc):
                raise NetworkRefused(
                    f"Bluesky: the post being replied to ({reply_to}) no longer exists"
                ) from exc
            raise
        data = answer.data
        try:
            return reply_refs(
                {"uri": data.get("uri"), "cid": data.get("cid"), "record": data.get("value")}
            )
        except ValueError as exc:
            raise TransientError(f"Bluesky getRecord: {exc}") from exc
