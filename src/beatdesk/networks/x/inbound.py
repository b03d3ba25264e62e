"""The X connector: mentions fetched from the API v2, webhook events read, posts published.

Each delivery body is self-contained JSON for one message, in one of three shapes:

* a v2 post as fetched: {"data": tweet, "includes": {"users": [author], "media": [...]}};
* an Account Activity webhook event: {"for_user_id", "tweet_create_events": [v1.1 tweet]};
* a direct message event: {"for_user_id", "direct_message_events": [event], "users": {...}}.

A mention reaching the desk both ways (fetched and by webhook) has the same post id, so it
is stored once. Direct messages get the external id "dm:<event id>" and the thread
"dm:<lower user id>-<higher user id>" (X's own dm_conversation_id) so they stay apart from
public posts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from beatdesk.networks.base import (
    NO_OPTIONS,
    Budget,
    FetchResult,
    Field,
    Inbound,
    LostSend,
    Network,
    NetworkRefused,
    NotSupported,
    PayloadError,
    PostCounts,
    PostOptions,
    Recovery,
    TransientError,
    Webhook,
    as_list,
    count_of,
    parse_time,
    read_json,
)
from beatdesk.networks.length import Counting
from beatdesk.networks.search import FoundPost, SearchResult, SearchTerm, point_of, post_of_item
from beatdesk.networks.x.client import (
    LOOKUP_LIMIT,
    api_base,
    get_me,
    get_post_metrics,
    request,
)
from beatdesk.networks.x.publish import delete_post, find_recent, post, post_thread
from beatdesk.networks.x.search import found_body, where
from beatdesk.networks.x.search import search as search_posts
from beatdesk.networks.x.webhook import XWebhook

if TYPE_CHECKING:
    from beatdesk.networks.models import NetworkAccount

MAX_RADIUS_KM = 40.0  # X's point_radius limit

MAX_PAGES = 10  # the mentions timeline only reaches back 800 posts: 8 pages of 100
PAGE_SIZE = 100
TWEET_FIELDS = (
    "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,lang,"
    "attachments,entities"
)
EXPANSIONS = "author_id,attachments.media_keys"
USER_FIELDS = "username,name"
MEDIA_FIELDS = "type,url,alt_text"
# X's language codes that say "no language": undetermined, and posts that are only
# mentions, cashtags, hashtags, media links, very short, or only media.
_NO_LANGUAGE = {"und", "qam", "qct", "qht", "qme", "qst", "zxx"}
_TWITTER_EPOCH_MS = 1288834974657


def _text(value: Any) -> str:
    """X escapes &, < and > in post text; the desk stores the text as written."""
    if not isinstance(value, str):
        return ""
    return value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _language(value: Any) -> str:
    lang = str(value or "").strip()
    return "" if lang.lower() in _NO_LANGUAGE else lang[:16]


def _id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value).strip()


def _id_order(value: str) -> int:
    return int(value) if _digits(value) else -1


def _digits(value: str) -> bool:
    # str.isdigit() is true of "²" and other digits int() does not read.
    return value.isascii() and value.isdigit() and len(value) <= 30


def _snowflake_time(post_id: str) -> dt.datetime:
    if not _digits(post_id):
        raise PayloadError("a post without created_at or a snowflake id")
    ms = (int(post_id) >> 22) + _TWITTER_EPOCH_MS
    return parse_time(ms / 1000)


def _load(body: str) -> dict[str, Any]:
    record = read_json(body, "an X delivery")
    if not isinstance(record, dict):
        raise PayloadError("an X delivery must be a JSON object")
    return record


def _v2_post(record: dict[str, Any]) -> Inbound:
    tweet = record.get("data")
    if not isinstance(tweet, dict):
        raise PayloadError("an X post needs its 'data' object")
    post_id = _id(tweet.get("id"))
    if not post_id:
        raise PayloadError("an X post needs an id")
    note = tweet.get("note_tweet")  # long posts: the full text when X sent it
    text = _text(note.get("text") if isinstance(note, dict) else None) or _text(tweet.get("text"))
    if not text:
        raise PayloadError(f"X post {post_id} has no text")
    includes = _obj(record.get("includes"))
    author_id = _id(tweet.get("author_id"))
    users = [u for u in includes.get("users") or [] if isinstance(u, dict)]
    author = next((u for u in users if _id(u.get("id")) == author_id), None)
    if author is None and len(users) == 1 and not author_id:
        author = users[0]
    if author is not None and author.get("username"):
        handle, name = "@" + str(author["username"]), str(author.get("name") or "")
    elif author_id:
        # X left the author out (suspended or protected since): keep the post, by id.
        handle, name = f"id:{author_id}", ""
    else:
        raise PayloadError(f"X post {post_id} has no author")
    reply_to = ""
    for ref in as_list(tweet.get("referenced_tweets")):
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            reply_to = _id(ref.get("id"))
            break
    attachments_field = tweet.get("attachments")
    keys = attachments_field.get("media_keys") if isinstance(attachments_field, dict) else None
    wanted = [str(k) for k in as_list(keys)]
    media = {str(m.get("media_key")): m for m in includes.get("media") or [] if isinstance(m, dict)}
    attachments = [
        {
            "type": str(media[key].get("type") or ""),
            "url": str(media[key].get("url") or media[key].get("preview_image_url") or ""),
            "alt_text": str(media[key].get("alt_text") or ""),
        }
        for key in wanted
        if key in media
    ]
    created = tweet.get("created_at")
    return Inbound(
        network="x",
        external_id=post_id,
        author_handle=handle[:200],
        author_name=name[:200],
        text=text,
        created_at=parse_time(created) if created else _snowflake_time(post_id),
        reply_to=reply_to,
        thread_id=_id(tweet.get("conversation_id")),
        language=_language(tweet.get("lang")),
        attachments=attachments,
    )


def _v1_media(tweet: dict[str, Any]) -> list[dict[str, Any]]:
    extended = _obj(tweet.get("extended_tweet"))
    for source in (extended, tweet):
        entities = source.get("extended_entities") or source.get("entities") or {}
        media = entities.get("media") if isinstance(entities, dict) else None
        if isinstance(media, list) and media:
            return [
                {
                    "type": str(m.get("type") or ""),
                    "url": str(m.get("media_url_https") or m.get("media_url") or ""),
                    "alt_text": str(m.get("ext_alt_text") or ""),
                }
                for m in media
                if isinstance(m, dict)
            ]
    return []


def _webhook_post(record: dict[str, Any]) -> Inbound:
    events = record.get("tweet_create_events")
    if not isinstance(events, list) or not events or not isinstance(events[0], dict):
        raise PayloadError("tweet_create_events holds no post")
    tweet = events[0]
    post_id = _id(tweet.get("id_str") or tweet.get("id"))
    if not post_id:
        raise PayloadError("a webhook post needs an id_str")
    extended = tweet.get("extended_tweet")
    text = _text(extended.get("full_text") if isinstance(extended, dict) else None) or _text(
        tweet.get("full_text") or tweet.get("text")
    )
    if not text:
        raise PayloadError(f"webhook post {post_id} has no text")
    user = tweet.get("user")
    if not isinstance(user, dict) or not user.get("screen_name"):
        raise PayloadError(f"webhook post {post_id} has no user")
    created = tweet.get("created_at")
    return Inbound(
        network="x",
        external_id=post_id,
        author_handle=("@" + str(user["screen_name"]))[:200],
        author_name=str(user.get("name") or "")[:200],
        text=text,
        created_at=parse_time(created) if created else _snowflake_time(post_id),
        reply_to=_id(tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")),
        language=_language(tweet.get("lang")),
        attachments=_v1_media(tweet),
    )


def _direct_message(record: dict[str, Any]) -> Inbound:
    events = record.get("direct_message_events")
    if not isinstance(events, list) or not events or not isinstance(events[0], dict):
        raise PayloadError("direct_message_events holds no message")
    event = events[0]
    if event.get("type") != "message_create":
        raise PayloadError(f"an X direct message event of type {event.get('type')!r}")
    event_id = _id(event.get("id"))
    create = event.get("message_create")
    if not event_id or not isinstance(create, dict):
        raise PayloadError("a direct message needs an id and message_create")
    data = _obj(create.get("message_data"))
    text = _text(data.get("text"))
    if not text:
        raise PayloadError(f"direct message {event_id} has no text")
    sender = _id(create.get("sender_id"))
    if not sender:
        raise PayloadError(f"direct message {event_id} has no sender")
    target = _obj(create.get("target"))
    recipient = _id(target.get("recipient_id")) or _id(record.get("for_user_id"))
    users = _obj(record.get("users"))
    user = _obj(users.get(sender))
    handle = "@" + str(user["screen_name"]) if user.get("screen_name") else f"id:{sender}"
    pair = sorted((sender, recipient or sender), key=lambda i: (_id_order(i), i))
    attachment = _obj(data.get("attachment"))
    media = attachment.get("media") if isinstance(attachment.get("media"), dict) else None
    stamp = event.get("created_timestamp")
    try:
        created = (
            parse_time(int(stamp) / 1000) if stamp not in (None, "") else _snowflake_time(event_id)
        )
    except (TypeError, ValueError, OverflowError) as exc:
        raise PayloadError(f"direct message {event_id}: unreadable created_timestamp") from exc
    return Inbound(
        network="x",
        external_id=f"dm:{event_id}",
        author_handle=handle[:200],
        author_name=str(user.get("name") or "")[:200],
        text=text,
        created_at=created,
        thread_id=f"dm:{pair[0]}-{pair[1]}",
        attachments=(
            [
                {
                    "type": str(media.get("type") or ""),
                    "url": str(media.get("media_url_https") or ""),
                    "alt_text": str(media.get("ext_alt_text") or ""),
                }
            ]
            if media
            else []
        ),
    )


def _page_bodies(page: dict[str, Any]) -> dict[str, str]:
    """One self-contained body per post of a mentions page, by post id."""
    tweets = page.get("data", [])
    includes = page.get("includes") or {}
    if not isinstance(tweets, list) or not isinstance(includes, dict):
        raise TransientError("X answered the mentions request in an unexpected shape")
    users = {_id(u.get("id")): u for u in includes.get("users") or [] if isinstance(u, dict)}
    media = {str(m.get("media_key")): m for m in includes.get("media") or [] if isinstance(m, dict)}
    bodies: dict[str, str] = {}
    for tweet in tweets:
        post_id = _id(tweet.get("id")) if isinstance(tweet, dict) else ""
        if not post_id:
            raise TransientError("X answered the mentions request with a post without an id")
        author = users.get(_id(tweet.get("author_id")))
        attachments = tweet.get("attachments")
        keys = attachments.get("media_keys") if isinstance(attachments, dict) else None
        own_includes: dict[str, Any] = {"users": [author] if author else []}
        own_media = [media[str(k)] for k in keys or [] if str(k) in media]
        if own_media:
            own_includes["media"] = own_media
        bodies[post_id] = json.dumps({"data": tweet, "includes": own_includes}, ensure_ascii=False)
    return bodies


def normalise(body: str) -> Inbound:
    """One X delivery (a v2 post with its includes, or a webhook event) normalised."""
    record = _load(body)
    if "tweet_create_events" in record:
        return _webhook_post(record)
    if "direct_message_events" in record:
        return _direct_message(record)
    if "data" in record:
        return _v2_post(record)
    raise PayloadError("neither an X post nor a webhook tweet or direct message event")


class XNetwork(Network):
    kind: ClassVar[str] = "x"
    label: ClassVar[str] = "X"
    can_fetch: ClassVar[bool] = True
    can_publish: ClassVar[bool] = True
    can_thread: ClassVar[bool] = True
    can_delete: ClassVar[bool] = True  # X offers no edit through its API
    can_count_reach: ClassVar[bool] = True
    can_search: ClassVar[bool] = True
    watch_kinds: ClassVar[frozenset[str]] = frozenset({"hashtag", "keyword", "phrase", "place"})
    search_needs_account: ClassVar[bool] = True
    recovery_guarantee: ClassVar[str] = (
        "Once, by looking: X takes no idempotency key, so the account's recent posts are "
        "searched for the text before sending again; if they cannot be read, a person checks."
    )
    # Links count 23 however long; emoji and most non-Latin characters count 2.
    counting: ClassVar[Counting | None] = Counting(limit=280, url_weight=23, weighted=True)
    credential_fields: ClassVar[tuple[Field, ...]] = (
        Field("api_base", "API address", required=False),
        Field("user_id", "Account's user id"),
        Field("bearer_token", "App bearer token", secret=True),
        Field("user_access_token", "User access token (for posting)", secret=True),
        Field("consumer_secret", "Consumer secret (for webhooks)", secret=True),
    )

    def normalise(self, body: str) -> Inbound:
        return normalise(body)

    def webhook(self) -> Webhook:
        return XWebhook()

    def search(self, term: SearchTerm) -> SearchResult:
        return search_posts(term, self.read_found)

    def read_found(self, raw: str) -> FoundPost:
        latitude, longitude = where(found_body(raw))
        item = normalise(raw)
        return post_of_item(self.kind, item, raw, latitude=latitude, longitude=longitude)

    def term_problem(self, kind: str, query: str) -> str:
        point = point_of(query) if kind == "place" else None
        if point is not None and not 0 < point[2] <= MAX_RADIUS_KM:
            return f"X searches a radius of at most {MAX_RADIUS_KM:g} km"
        return ""

    def recover(self, account: NetworkAccount, lost: LostSend) -> Recovery:
        try:
            found = find_recent(account.get_credentials(), lost.text)
        except NetworkRefused as exc:
            return Recovery("check", f"X's timeline could not be read ({exc})")
        if found:
            return Recovery("found", "on the account's recent posts", found)
        return Recovery("resend", "not on the account's recent posts")

    def delete(self, account: NetworkAccount, external_id: str) -> None:
        delete_post(account.get_credentials(), external_id)

    def follower_count(self, account: NetworkAccount) -> int:
        metrics = get_me(account.get_credentials()).get("public_metrics")
        return count_of(metrics.get("followers_count")) if isinstance(metrics, dict) else 0

    def post_counts(
        self, account: NetworkAccount, external_ids: list[str]
    ) -> dict[str, PostCounts]:
        credentials = account.get_credentials()
        counts = {}
        for start in range(0, len(external_ids), LOOKUP_LIMIT):
            for item in get_post_metrics(credentials, external_ids[start : start + LOOKUP_LIMIT]):
                public = item.get("public_metrics")
                if not isinstance(public, dict):
                    continue
                views = public.get("impression_count")
                counts[str(item.get("id"))] = PostCounts(
                    reposts=count_of(public.get("retweet_count")),
                    likes=count_of(public.get("like_count")),
                    replies=count_of(public.get("reply_count")),
                    impressions=views if isinstance(views, int) and views >= 0 else None,
                )
        return counts

    def fetch(self, account: NetworkAccount, cursor: str) -> FetchResult:
        """Mentions of the account since `cursor` (a post id), oldest first."""
        credentials = account.get_credentials()
        token, user_id = credentials.get("bearer_token"), _id(credentials.get("user_id"))
        if not token or not user_id:
            raise NetworkRefused(
                f"X account {account.handle} needs a bearer_token and its numeric user_id"
            )
        base = api_base(credentials)
        params = {
            "max_results": str(PAGE_SIZE),
            "tweet.fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "user.fields": USER_FIELDS,
            "media.fields": MEDIA_FIELDS,
        }
        if cursor:
            params["since_id"] = cursor
        bodies: dict[str, str] = {}
        newest = cursor
        budget = Budget()
        for _ in range(MAX_PAGES):
            answer = request(
                "GET",
                f"{base}/2/users/{user_id}/mentions",
                token=str(token),
                what=f"fetching mentions of {account.handle}",
                params=params,
            )
            budget, page = answer.budget, answer.data
            meta = page.get("meta")
            if "data" not in page and not isinstance(meta, dict) and page.get("errors"):
                errors = page["errors"] if isinstance(page["errors"], list) else [page["errors"]]
                detail = _obj(errors[0]).get("detail") or errors[0]
                raise NetworkRefused(f"X refused the mentions of {account.handle}: {detail}")
            if not isinstance(meta, dict):
                meta = {}
            page_bodies = _page_bodies(page)
            bodies.update(page_bodies)
            for candidate in [_id(meta.get("newest_id")), *page_bodies]:
                if _id_order(candidate) > _id_order(newest):
                    newest = candidate
            next_token = meta.get("next_token")
            if not next_token or not page_bodies:
                break
            params["pagination_token"] = str(next_token)
        ordered = sorted(bodies, key=lambda i: (_id_order(i), i))
        return FetchResult([bodies[i] for i in ordered], newest, budget)

    def publish(self, account: NetworkAccount, text: str, options: PostOptions = NO_OPTIONS) -> str:
        """Post `text` (as a reply when `reply_to` is a post id); return the new post's id.

        X's API takes no idempotency key and refuses an exact duplicate of a recent post
        itself, so the options' key is not sent; images are not uploaded to X."""
        if options.reply_to.startswith("dm:"):
            raise NotSupported("X direct messages are answered by direct message, not by a post")
        if options.media:
            raise NotSupported("the desk does not upload images to X")
        return post(account.get_credentials(), text, options.reply_to)

    def publish_thread(
        self, account: NetworkAccount, parts: Sequence[str], reply_to: str = ""
    ) -> list[str]:
        """Post `parts` as a thread (each replying to the one before); return their ids."""
        if reply_to.startswith("dm:"):
            raise NotSupported("X direct messages are answered by direct message, not by a post")
        return post_thread(account.get_credentials(), parts, reply_to)
