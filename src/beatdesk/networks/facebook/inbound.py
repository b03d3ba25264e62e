"""The Meta connectors: a Facebook Page and an Instagram professional account.

Each delivery body is self-contained JSON for one message, in one of these shapes:

* a Page comment as fetched from Graph: {"id", "message", "created_time", "from": {id,
  name}, "parent": {id} (replies only), "attachment", "post_id", "for_id"};
* a Page feed webhook change: {"object": "page", "for_id", "time", "field": "feed",
  "value": {"item": "comment", "verb": "add", "comment_id", "post_id", "parent_id",
  "from", "message", "created_time"}};
* an Instagram comment as fetched: {"id", "text", "timestamp", "username", "from": {id,
  username}, "parent_id" (replies only), "media": {"id"}, "for_id"};
* an Instagram comments webhook change: {"object": "instagram", "for_id", "time",
  "field": "comments", "value": {"id", "text", "from", "media", "parent_id"}};
* a Messenger or Instagram messaging webhook event: {"object": "page" | "instagram",
  "for_id", "time", "messaging": {"sender", "recipient", "timestamp", "message"}}.

A comment reaching the desk both ways (fetched and by webhook) has the same comment id, so
it is stored once. Comments are threaded by their post (Facebook "<page>_<post>") or media
id; private messages get the thread "conv:<page or IG account id>-<sender's scoped id>",
which is also what a reply to them is published against. The Page's own comments and
messages (from the Page, or Messenger echoes) are never read as inbound.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any, ClassVar

from beatdesk.networks.base import (
    NO_OPTIONS,
    Budget,
    FetchResult,
    Field,
    Inbound,
    Network,
    NetworkRefused,
    NotSupported,
    PayloadError,
    PostOptions,
    TransientError,
    Webhook,
    as_list,
    parse_time,
    read_json,
)
from beatdesk.networks.facebook.client import DEFAULT_GRAPH_BASE, request
from beatdesk.networks.facebook.publish import (
    hide_facebook_comment,
    hide_instagram_comment,
    publish_facebook,
    publish_instagram,
)
from beatdesk.networks.facebook.webhook import MetaWebhook
from beatdesk.networks.length import Counting

if TYPE_CHECKING:
    from beatdesk.networks.models import NetworkAccount

POST_LIMIT = 25  # recent Page posts whose comments are read on each fetch
MEDIA_LIMIT = 15  # recent Instagram media whose comments are read (one call each)
COMMENT_LIMIT = 50
COMMENT_FIELDS = "id,message,created_time,from,parent,attachment"
# filter(stream): replies as well as top-level comments, each with its parent;
# newest first, so the 50 read per post are the 50 most recent.
FEED_FIELDS = (
    "id,created_time,comments.filter(stream).order(reverse_chronological)"
    f".limit({COMMENT_LIMIT}){{{COMMENT_FIELDS}}}"
)
MEDIA_FIELDS = "id,caption,timestamp"
IG_COMMENT_FIELDS = "id,text,timestamp,username,from,parent_id"
IG_FIELDS = f"{IG_COMMENT_FIELDS},replies{{{IG_COMMENT_FIELDS}}}"


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value).strip()


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _epoch(value: Any) -> dt.datetime:
    """Meta's unix times: seconds in feed changes, milliseconds in messaging events."""
    if isinstance(value, bool):
        raise PayloadError(f"unreadable time {value!r}")
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int | float):
        try:
            return parse_time(value / 1000 if value > 100_000_000_000 else value)
        except OverflowError as exc:  # an integer too large to divide into a float
            raise PayloadError("time out of range") from exc
    return parse_time(value)


def _load(body: str) -> dict[str, Any]:
    record = read_json(body, "a Meta delivery")
    if not isinstance(record, dict):
        raise PayloadError("a Meta delivery must be a JSON object")
    return record


def _fb_author(sender: Any) -> tuple[str, str]:
    author = _obj(sender)
    name, author_id = _str(author.get("name")).strip(), _id(author.get("id"))
    if name:
        return name, name
    if author_id:
        return f"fbid:{author_id}", ""
    # Graph leaves "from" out when the commenter's privacy hides them from the Page.
    return "unknown", ""


def _ig_author(record: dict[str, Any]) -> tuple[str, str]:
    author = _obj(record.get("from"))
    username = _str(author.get("username")) or _str(record.get("username"))
    if username.strip():
        return "@" + username.strip().lstrip("@"), ""
    author_id = _id(author.get("id"))
    if author_id:
        return f"igsid:{author_id}", ""
    raise PayloadError(f"Instagram comment {_id(record.get('id'))} has no author")


def _fb_attachment(value: Any) -> list[dict[str, Any]]:
    attachment = _obj(value)
    if not attachment:
        return []
    image = _obj(_obj(attachment.get("media")).get("image"))
    url = _str(image.get("src")) or _str(attachment.get("url"))
    return [
        {
            "type": _str(attachment.get("type")),
            "url": url,
            "alt_text": _str(attachment.get("description")),
        }
    ]


def _page_comment(record: dict[str, Any]) -> Inbound:
    comment_id = _id(record.get("id"))
    if not comment_id:
        raise PayloadError("a Facebook comment needs an id")
    text = _str(record.get("message"))
    attachments = _fb_attachment(record.get("attachment"))
    if not text.strip() and not attachments:
        raise PayloadError(f"Facebook comment {comment_id} has no text")
    if "created_time" not in record:
        raise PayloadError(f"Facebook comment {comment_id} has no created_time")
    handle, name = _fb_author(record.get("from"))
    post_id = _id(record.get("post_id"))
    if not post_id and "_" in comment_id and _id(record.get("for_id")):
        # Graph's comment ids are "<post object id>_<comment id>"; posts "<page>_<post>".
        post_id = f"{_id(record.get('for_id'))}_{comment_id.split('_', 1)[0]}"
    return Inbound(
        network="facebook",
        external_id=comment_id,
        author_handle=handle[:200],
        author_name=name[:200],
        text=text,
        created_at=parse_time(record["created_time"]),
        reply_to=_id(_obj(record.get("parent")).get("id")),
        thread_id=post_id,
        attachments=attachments,
    )


def _feed_change(record: dict[str, Any]) -> Inbound:
    value = _obj(record.get("value"))
    if value.get("item") != "comment" or value.get("verb") != "add":
        raise PayloadError(
            f"a feed change of item {value.get('item')!r}, verb {value.get('verb')!r} "
            "is not a new comment"
        )
    comment_id = _id(value.get("comment_id"))
    if not comment_id:
        raise PayloadError("a feed comment change needs a comment_id")
    text = _str(value.get("message"))
    attachments = [
        {"type": kind, "url": _str(value.get(kind)), "alt_text": ""}
        for kind in ("photo", "video")
        if _str(value.get(kind))
    ]
    if not text.strip() and not attachments:
        raise PayloadError(f"Facebook comment {comment_id} has no text")
    created = value.get("created_time", record.get("time"))
    if created is None:
        raise PayloadError(f"Facebook comment {comment_id} has no created_time")
    post_id = _id(value.get("post_id")) or _id(_obj(value.get("post")).get("id"))
    parent = _id(value.get("parent_id"))
    handle, name = _fb_author(value.get("from"))
    return Inbound(
        network="facebook",
        external_id=comment_id,
        author_handle=handle[:200],
        author_name=name[:200],
        text=text,
        created_at=_epoch(created),
        # A top-level comment's parent is the post itself: only replies reply to something.
        reply_to="" if parent == post_id else parent,
        thread_id=post_id,
        attachments=attachments,
    )


def _ig_comment(record: dict[str, Any], created: Any) -> Inbound:
    comment_id = _id(record.get("id"))
    if not comment_id:
        raise PayloadError("an Instagram comment needs an id")
    text = _str(record.get("text"))
    if not text.strip():
        raise PayloadError(f"Instagram comment {comment_id} has no text")
    if created is None:
        raise PayloadError(f"Instagram comment {comment_id} has no timestamp")
    handle, name = _ig_author(record)
    return Inbound(
        network="instagram",
        external_id=comment_id,
        author_handle=handle[:200],
        author_name=name,
        text=text,
        created_at=_epoch(created),
        reply_to=_id(record.get("parent_id")),
        thread_id=_id(_obj(record.get("media")).get("id")) or _id(record.get("media_id")),
    )


def _messaging(record: dict[str, Any]) -> Inbound:
    network = "instagram" if record.get("object") == "instagram" else "facebook"
    event = _obj(record.get("messaging"))
    message = _obj(event.get("message"))
    if not message:
        raise PayloadError("a messaging event without a message (a read, delivery or postback)")
    if message.get("is_echo"):
        raise PayloadError("an echo of the account's own message is not inbound")
    if message.get("is_deleted"):
        raise PayloadError("a deleted message is not inbound")
    mid = _id(message.get("mid"))
    if not mid:
        raise PayloadError("a message needs its mid")
    sender = _id(_obj(event.get("sender")).get("id"))
    ours = _id(_obj(event.get("recipient")).get("id")) or _id(record.get("for_id"))
    if not sender or not ours:
        raise PayloadError(f"message {mid} needs a sender and a recipient")
    text = _str(message.get("text"))
    attachments = [
        {
            "type": _str(a.get("type")),
            "url": _str(_obj(a.get("payload")).get("url")),
            "alt_text": _str(_obj(a.get("payload")).get("title")),
        }
        for a in as_list(message.get("attachments"))
        if isinstance(a, dict)
    ]
    if not text.strip() and not attachments:
        raise PayloadError(f"message {mid} has neither text nor attachments")
    stamp = event.get("timestamp", record.get("time"))
    if stamp is None:
        raise PayloadError(f"message {mid} has no timestamp")
    prefix = "igsid" if network == "instagram" else "psid"
    return Inbound(
        network=network,
        external_id=mid,
        author_handle=f"{prefix}:{sender}",
        text=text,
        created_at=_epoch(stamp),
        reply_to=_id(_obj(message.get("reply_to")).get("mid")),
        thread_id=f"conv:{ours}-{sender}",
        attachments=attachments,
    )


def normalise_meta(body: str) -> Inbound:
    """Any of the Meta shapes above, as one inbound message."""
    record = _load(body)
    if "messaging" in record:
        return _messaging(record)
    field = record.get("field")
    if field == "feed":
        return _feed_change(record)
    if field in ("comments", "live_comments"):
        value = _obj(record.get("value"))
        return _ig_comment(value, value.get("timestamp", record.get("time")))
    if "message" in record or "created_time" in record:
        return _page_comment(record)
    if "text" in record or "timestamp" in record:
        return _ig_comment(record, record.get("timestamp"))
    raise PayloadError("neither a Facebook or Instagram comment nor a messaging event")


def _cursor_time(cursor: str) -> dt.datetime | None:
    if not cursor:
        return None
    try:
        return parse_time(cursor)
    except PayloadError:
        return None  # a cursor from elsewhere: read what Graph offers, deduplication holds


def _lowest(budgets: list[Budget]) -> Budget:
    known = [b for b in budgets if b.remaining is not None]
    if not known:
        return budgets[-1] if budgets else Budget()
    return min(known, key=lambda b: b.remaining if b.remaining is not None else 100)


def _list(page: dict[str, Any], what: str) -> list[dict[str, Any]]:
    data = page.get("data", [])
    if not isinstance(data, list):
        raise TransientError(f"Meta answered {what} in an unexpected shape")
    return [item for item in data if isinstance(item, dict)]


class _MetaNetwork(Network):
    """What the Facebook and Instagram connectors share: reading, credentials, ordering."""

    can_fetch: ClassVar[bool] = True
    can_publish: ClassVar[bool] = True
    can_hide_comments: ClassVar[bool] = True
    id_key: ClassVar[str] = "page_id"
    recovery_guarantee: ClassVar[str] = (
        "A person checks: Meta cannot say whether a post whose answer was lost arrived."
    )

    def normalise(self, body: str) -> Inbound:
        return normalise_meta(body)

    def webhook(self) -> Webhook:
        return MetaWebhook()

    def _credentials(self, account: NetworkAccount) -> tuple[dict[str, Any], str, str]:
        credentials = account.get_credentials()
        token, own_id = credentials.get("page_access_token"), _id(credentials.get(self.id_key))
        if not token or not own_id:
            raise NetworkRefused(
                f"{self.kind} account {account.handle} needs a page_access_token and its "
                f"numeric {self.id_key}"
            )
        base = str(credentials.get("graph_base") or DEFAULT_GRAPH_BASE).rstrip("/")
        return credentials, base, own_id

    @staticmethod
    def _result(
        found: list[tuple[dt.datetime, str, str]], cursor: str, budgets: list[Budget]
    ) -> FetchResult:
        found.sort(key=lambda entry: (entry[0], entry[1]))
        newest = found[-1][0].isoformat() if found else cursor
        return FetchResult([body for _, _, body in found], newest, _lowest(budgets))


class FacebookNetwork(_MetaNetwork):
    kind: ClassVar[str] = "facebook"
    label: ClassVar[str] = "Facebook"
    id_key: ClassVar[str] = "page_id"
    counting: ClassVar[Counting | None] = Counting(limit=63206, code_units=True)
    credential_fields: ClassVar[tuple[Field, ...]] = (
        Field("graph_base", "Graph API address", required=False),
        Field("page_id", "Page id"),
        Field("page_access_token", "Page access token", secret=True),
        Field("app_secret", "App secret (for webhooks)", secret=True),
        Field("verify_token", "Webhook verify token", secret=True),
    )

    def fetch(self, account: NetworkAccount, cursor: str) -> FetchResult:
        """Comments on the Page's recent posts newer than `cursor` (ISO time), oldest first.

        Messenger messages are not fetched: they arrive by webhook only."""
        credentials, base, page_id = self._credentials(account)
        answer = request(
            "GET",
            f"{base}/{page_id}/feed",
            token=str(credentials["page_access_token"]),
            app_secret=str(credentials.get("app_secret") or ""),
            what=f"fetching comments on {account.handle}",
            params={"fields": FEED_FIELDS, "limit": str(POST_LIMIT)},
        )
        since = _cursor_time(cursor)
        found: list[tuple[dt.datetime, str, str]] = []
        for post in _list(answer.data, "the Page feed"):
            post_id = _id(post.get("id"))
            comments = _obj(post.get("comments"))
            for comment in _list(comments, "a post's comments"):
                comment_id = _id(comment.get("id"))
                if not comment_id or _id(_obj(comment.get("from")).get("id")) == page_id:
                    continue  # the Page's own comments are never inbound
                try:
                    created = parse_time(comment.get("created_time"))
                except PayloadError:
                    continue
                if since is not None and created <= since:
                    continue
                body = {**comment, "post_id": post_id, "for_id": page_id}
                found.append((created, comment_id, json.dumps(body, ensure_ascii=False)))
        return self._result(found, cursor, [answer.budget])

    def publish(self, account: NetworkAccount, text: str, options: PostOptions = NO_OPTIONS) -> str:
        """A Page post, a reply to a comment (reply_to a comment id) or a Messenger reply
        (reply_to "conv:<page>-<psid>"); the new id. Graph takes no idempotency key, so
        the options' key is not sent."""
        if options.media:
            raise NotSupported("the desk does not upload images to Facebook")
        return publish_facebook(account.get_credentials(), text, options.reply_to)

    def hide_comment(self, account: NetworkAccount, comment_id: str, hidden: bool = True) -> None:
        hide_facebook_comment(account.get_credentials(), comment_id, hidden)


class InstagramNetwork(_MetaNetwork):
    kind: ClassVar[str] = "instagram"
    label: ClassVar[str] = "Instagram"
    can_start_posts: ClassVar[bool] = False  # a new Instagram post needs an image
    id_key: ClassVar[str] = "ig_user_id"
    counting: ClassVar[Counting | None] = Counting(limit=2200, code_units=True)
    credential_fields: ClassVar[tuple[Field, ...]] = (
        Field("graph_base", "Graph API address", required=False),
        Field("page_id", "Linked Page id"),
        Field("ig_user_id", "Instagram user id"),
        Field("page_access_token", "Page access token", secret=True),
        Field("app_secret", "App secret (for webhooks)", secret=True),
        Field("verify_token", "Webhook verify token", secret=True),
    )

    def fetch(self, account: NetworkAccount, cursor: str) -> FetchResult:
        """Comments (and their replies) on the account's recent media newer than `cursor`
        (ISO time), oldest first. Direct messages arrive by webhook only."""
        credentials, base, ig_id = self._credentials(account)
        token = str(credentials["page_access_token"])
        secret = str(credentials.get("app_secret") or "")
        own_name = account.handle.strip().lstrip("@").lower()
        media_answer = request(
            "GET",
            f"{base}/{ig_id}/media",
            token=token,
            app_secret=secret,
            what=f"fetching media of {account.handle}",
            params={"fields": MEDIA_FIELDS, "limit": str(MEDIA_LIMIT)},
        )
        budgets = [media_answer.budget]
        since = _cursor_time(cursor)
        found: list[tuple[dt.datetime, str, str]] = []

        def keep(comment: dict[str, Any], media_id: str, parent_id: str = "") -> None:
            comment_id = _id(comment.get("id"))
            author = _obj(comment.get("from"))
            username = (_str(author.get("username")) or _str(comment.get("username"))).lower()
            if not comment_id or _id(author.get("id")) == ig_id or username == own_name:
                return  # the account's own comments are never inbound
            try:
                created = parse_time(comment.get("timestamp"))
            except PayloadError:
                return
            if since is not None and created <= since:
                return
            body = {k: v for k, v in comment.items() if k != "replies"}
            if parent_id and not body.get("parent_id"):
                body["parent_id"] = parent_id
            body.update(media={"id": media_id}, for_id=ig_id)
            found.append((created, comment_id, json.dumps(body, ensure_ascii=False)))

        for media in _list(media_answer.data, "the media list"):
            media_id = _id(media.get("id"))
            if not media_id:
                continue
            answer = request(
                "GET",
                f"{base}/{media_id}/comments",
                token=token,
                app_secret=secret,
                what=f"fetching comments on {account.handle}",
                params={"fields": IG_FIELDS, "limit": str(COMMENT_LIMIT)},
            )
            budgets.append(answer.budget)
            for comment in _list(answer.data, "a media's comments"):
                keep(comment, media_id)
                for reply in _list(_obj(comment.get("replies")), "a comment's replies"):
                    keep(reply, media_id, _id(comment.get("id")))
        return self._result(found, cursor, budgets)

    def publish(self, account: NetworkAccount, text: str, options: PostOptions = NO_OPTIONS) -> str:
        """A reply to a comment (reply_to a comment id) or to a direct message (reply_to
        "conv:<ig id>-<igsid>"); the new id. New media needs an image: NotSupported."""
        if options.media:
            raise NotSupported("the desk does not upload images to Instagram")
        return publish_instagram(account.get_credentials(), text, options.reply_to)

    def hide_comment(self, account: NetworkAccount, comment_id: str, hidden: bool = True) -> None:
        hide_instagram_comment(account.get_credentials(), comment_id, hidden)
