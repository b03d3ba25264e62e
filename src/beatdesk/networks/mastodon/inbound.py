"""The Mastodon connector: mentions of the force account, fetched from its instance.

Fetching reads GET /api/v1/notifications?types[]=mention. Direct messages arrive the same
way (as mentions whose status has visibility "direct"), so they need no second call. Each
delivery is one Notification entity as the instance sent it; normalising also accepts a bare
Status entity (the shape of a status from the streaming API or a timeline).
"""

from __future__ import annotations

import datetime as dt
import html
import json
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

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
    as_list,
    count_of,
    parse_time,
    read_json,
)
from beatdesk.networks.mastodon.client import (
    MastodonClient,
    client_for,
    get_status,
    verify_credentials,
)
from beatdesk.networks.mastodon.publish import (
    COUNTING,
    Media,
    check_media,
    check_text,
    check_thread,
    check_visibility,
    default_idempotency_key,
    media_fingerprint,
    narrowest,
    post_status,
    post_thread,
    reply_visibility,
    upload_media,
)
from beatdesk.networks.mastodon.search import search as search_statuses
from beatdesk.networks.search import FoundPost, SearchResult, SearchTerm, post_of_item

if TYPE_CHECKING:
    from beatdesk.networks.models import NetworkAccount

NOTIFICATIONS_PATH = "/api/v1/notifications"
PAGE_SIZE = 40  # Mastodon's maximum for notifications
MAX_PAGES = 10  # per fetch while catching up; the cursor resumes where a fetch stopped
KEY_WINDOW = dt.timedelta(minutes=55)  # the instance keeps an Idempotency-Key an hour


# --- HTML to plain text -------------------------------------------------------------------


class _PlainText(HTMLParser):
    """Status HTML to the text its author typed: <br> is a newline, a new <p> a blank line.

    Mastodon renders one newline as <br /> and a blank line as </p><p>, so this gives the
    source text back. Links keep their whole address (Mastodon splits it into spans, some
    of them hidden, but all of them text); entities are unescaped.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._paragraphs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "p":
            if self._paragraphs:
                self.parts.append("\n\n")
            self._paragraphs += 1
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in {"blockquote", "pre", "ul", "ol"}:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1
        elif tag in {"blockquote", "pre", "ul", "ol"}:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(content: str) -> str:
    parser = _PlainText()
    try:
        parser.feed(content)
        parser.close()
    except Exception:  # html.parser is lenient, but never fail a message over its markup
        return html.unescape(content).strip()
    text = "".join(parser.parts).replace("\r\n", "\n").replace("\xa0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    # No more than one blank line in a row, none at the ends.
    out: list[str] = []
    for line in lines:
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    return "\n".join(out).strip()


# --- normalising ----------------------------------------------------------------------------


def _str(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, str | int):
        return str(value)
    return ""


def _full_handle(acct: str, url: str) -> str:
    """@user@domain for an account: remote accts carry the domain, local ones take the host
    of their profile URL (https://social.police.example/@westmerepolice)."""
    acct = acct.lstrip("@")
    if not acct:
        return ""
    if "@" in acct:
        return f"@{acct}"
    host = urlsplit(url).hostname if url else None
    return f"@{acct}@{host}" if host else f"@{acct}"


def _addressed_to(status: dict[str, Any]) -> str:
    """The account the status was addressed to, when that is clear: its only mention."""
    mentions = [m for m in status.get("mentions") or [] if isinstance(m, dict)]
    if len(mentions) != 1:
        return ""  # none, or several: the account that fetched it is the one addressed
    return _full_handle(_str(mentions[0].get("acct")), _str(mentions[0].get("url")))


def _attachments(status: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for media in as_list(status.get("media_attachments")):
        if not isinstance(media, dict):
            continue
        url = _str(media.get("url")) or _str(media.get("remote_url"))
        if not url:
            continue
        found.append(
            {
                "type": _str(media.get("type")) or "unknown",
                "url": url,
                "description": _str(media.get("description")),
            }
        )
    return found


def _status_of(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise PayloadError("a Mastodon delivery must be a JSON object")
    if "type" in record:  # a Notification entity
        kind = record.get("type")
        if kind != "mention":
            raise PayloadError(f"not a mention: a Mastodon {kind!r} notification")
        status = record.get("status")
        if not isinstance(status, dict):
            raise PayloadError("a mention notification without its status")
        return status
    if "content" in record and "account" in record:  # a bare Status entity
        return record
    raise PayloadError("neither a Mastodon notification nor a status")


def normalise_status(body: str) -> Inbound:
    record = read_json(body, "a Mastodon status")
    status = _status_of(record)
    if isinstance(status.get("reblog"), dict):
        status = status["reblog"]  # a boost: the boosted status is the message
    external_id = _str(status.get("id"))
    if not external_id:
        raise PayloadError("the status has no id")
    account = status.get("account")
    if not isinstance(account, dict) or not _str(account.get("acct")):
        raise PayloadError("the status has no author account (account.acct)")
    content = status.get("content")
    text = html_to_text(content) if isinstance(content, str) else ""
    if not text:
        text = _str(status.get("text")).strip()  # deleted statuses carry their source instead
    spoiler = _str(status.get("spoiler_text")).strip()
    if spoiler:
        text = f"CW: {spoiler}\n\n{text}".strip()
    attachments = _attachments(status)
    if not text and not attachments:
        raise PayloadError("the status has neither text nor media")
    return Inbound(
        network="mastodon",
        external_id=external_id[:200],
        author_handle=("@" + _str(account.get("acct")).lstrip("@"))[:200],
        author_name=_str(account.get("display_name"))[:200],
        text=text,
        created_at=parse_time(status.get("created_at")),
        reply_to=_str(status.get("in_reply_to_id"))[:200],
        language=_str(status.get("language"))[:16],
        account_handle=_addressed_to(status)[:200],
        attachments=attachments,
    )


# --- fetching -------------------------------------------------------------------------------


def _id_key(notification_id: str) -> tuple[int, str]:
    """Mastodon's ids are strings of (snowflake) integers: order them as numbers."""
    return (len(notification_id), notification_id)


def _newer(a: str, b: str) -> bool:
    """Is id `a` newer than id `b`? Ids are "not guaranteed to be a number": when either is
    not, trust the instance's own order (it answered a since_id/min_id query with `a`)."""
    if a.isdigit() and b.isdigit():
        return _id_key(a) > _id_key(b)
    return a != b


def _id_of(item: Any) -> str:
    return _str(item.get("id")) if isinstance(item, dict) else ""


def _page(client: MastodonClient, **bounds: str) -> tuple[list[Any], Budget]:
    params = [("types[]", "mention"), ("limit", str(PAGE_SIZE))]
    params += [(name, value) for name, value in bounds.items() if value]
    reply = client.request("GET", NOTIFICATIONS_PATH, params=params)
    if not isinstance(reply.data, list):
        raise TransientError(
            "the instance's notifications were not a list; it may be mid-upgrade, retry later"
        )
    # Mastodon answers newest first; the desk wants them oldest first.
    return list(reversed(reply.data)), reply.budget


def fetch_mentions(client: MastodonClient, cursor: str) -> FetchResult:
    """Mentions newer than `cursor` (a notification id), oldest first.

    One call in the usual case: since_id=cursor. When that page is full there may be more
    than a page waiting, and since_id would give only the newest page, so the fetch pages
    forward from the cursor instead (min_id, as the Link header's "prev" link does), up to
    MAX_PAGES pages. That leaves no gap: the cursor returned is the newest mention actually
    returned, and the next fetch goes on from there. Without a cursor (the first fetch) only
    the newest page is read: the desk starts from now, not from the account's history.
    """
    items, budget = _page(client, since_id=cursor)
    if cursor and len(items) >= PAGE_SIZE:
        items = []
        after = cursor
        for _ in range(MAX_PAGES):
            page, budget = _page(client, min_id=after)
            items.extend(page)
            ids = [i for i in map(_id_of, page) if i]
            if len(page) < PAGE_SIZE or not ids or not _newer(ids[-1], after):
                break  # caught up (or the instance is not paging forward: do not loop)
            after = ids[-1]

    ordered: list[tuple[str, Any]] = []
    without_id: list[Any] = []
    seen: set[str] = set()
    for item in items:
        item_id = _id_of(item)
        if not item_id:
            without_id.append(item)  # kept: ingestion stores it as a dead letter
        elif item_id not in seen:
            seen.add(item_id)
            ordered.append((item_id, item))
    if all(item_id.isdigit() for item_id, _ in ordered):
        ordered.sort(key=lambda pair: _id_key(pair[0]))
    bodies = [json.dumps(item, ensure_ascii=False) for _, item in ordered]
    bodies += [json.dumps(item, ensure_ascii=False) for item in without_id]
    new_cursor = cursor
    if ordered and (not cursor or _newer(ordered[-1][0], cursor)):
        new_cursor = ordered[-1][0]  # never backwards
    return FetchResult(bodies=bodies, cursor=new_cursor, budget=budget)


# --- the connector --------------------------------------------------------------------------


class MastodonNetwork(Network):
    kind = "mastodon"
    label = "Mastodon"
    can_fetch = True
    can_publish = True
    can_thread = True
    can_upload_media = True
    can_edit = True  # PUT /api/v1/statuses/:id
    can_delete = True
    can_count_reach = True
    can_search = True
    watch_kinds = frozenset({"hashtag", "keyword", "phrase"})
    search_needs_account = True
    recovery_guarantee = (
        "Exactly once: sent again with the same Idempotency-Key (kept for an hour by the "
        "instance); after an hour, a person checks."
    )
    counting = COUNTING  # every link 23 characters, a remote mention its local part
    credential_fields = (
        Field("instance", "Instance address, e.g. https://social.police.example"),
        Field("access_token", "Access token", secret=True),
    )

    def normalise(self, body: str) -> Inbound:
        return normalise_status(body)

    def fetch(self, account: NetworkAccount, cursor: str) -> FetchResult:
        return fetch_mentions(client_for(account), cursor)

    def search(self, term: SearchTerm) -> SearchResult:
        return search_statuses(term, self.read_found)

    def read_found(self, raw: str) -> FoundPost:
        return post_of_item(self.kind, normalise_status(raw), raw)

    def publish(self, account: NetworkAccount, text: str, options: PostOptions = NO_OPTIONS) -> str:
        """Post `text`, as a reply to `options.reply_to` if given, with its images. A reply is
        never seen more widely than its parent; an explicit `visibility` may narrow that,
        never widen it."""
        media: list[Media] = [
            (m.data, m.filename, m.content_type, m.alt_text) for m in options.media
        ]
        visibility = options.visibility
        reply_to = options.reply_to
        # Before anything else: a refused post needs no credentials and sends nothing.
        check_text(text, with_media=bool(media))
        check_media(media)
        if visibility is not None:
            check_visibility(visibility)
        idempotency_key = options.idempotency_key
        if not idempotency_key:
            keyed = text
            if media:
                keyed += "\n\x1emedia\n" + media_fingerprint(media)
            if visibility is not None:
                keyed += "\n\x1evisibility\n" + visibility
            idempotency_key = default_idempotency_key(account.handle, keyed, reply_to)
        client = client_for(account)
        widest = reply_visibility(client, reply_to) if reply_to else "public"
        chosen = narrowest(widest, visibility) if visibility is not None else widest
        media_ids = [upload_media(client, *item) for item in media]
        return post_status(
            client,
            text,
            reply_to=reply_to,
            idempotency_key=idempotency_key,
            visibility=chosen,
            media_ids=media_ids,
        )

    def recover(self, account: NetworkAccount, lost: LostSend) -> Recovery:
        if lost.claimed_at is not None and now() - lost.claimed_at < KEY_WINDOW:
            return Recovery("resend", "the same Idempotency-Key")
        return Recovery("check", "the Idempotency-Key has expired: check the account's posts")

    def edit(self, account: NetworkAccount, external_id: str, text: str) -> None:
        client_for(account).request(
            "PUT", f"/api/v1/statuses/{external_id}", json_body={"status": text}
        )

    def delete(self, account: NetworkAccount, external_id: str) -> None:
        client_for(account).request("DELETE", f"/api/v1/statuses/{external_id}")

    def follower_count(self, account: NetworkAccount) -> int:
        return count_of(verify_credentials(client_for(account)).get("followers_count"))

    def post_counts(
        self, account: NetworkAccount, external_ids: list[str]
    ) -> dict[str, PostCounts]:
        client = client_for(account)
        counts = {}
        for status_id in external_ids:
            try:
                status = get_status(client, status_id)
            except NetworkRefused:
                continue  # deleted (404/410): nothing to count
            counts[status_id] = PostCounts(
                reposts=count_of(status.get("reblogs_count")),
                likes=count_of(status.get("favourites_count")),
                replies=count_of(status.get("replies_count")),
            )
        return counts

    def publish_thread(
        self, account: NetworkAccount, parts: list[str], *, idempotency_key: str = ""
    ) -> list[str]:
        """Post `parts` as a thread (each a reply to the one before); their ids. Every part
        is checked before anything is sent; ThreadInterrupted (with `.posted`) when a part
        after the first fails."""
        check_thread(parts)
        base = idempotency_key or default_idempotency_key(
            account.handle, "\n\x1ethread\n".join(parts), ""
        )
        return post_thread(client_for(account), parts, idempotency_key=base)
