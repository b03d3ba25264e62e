"""The contract every network connector fulfils.

A connector turns one raw delivery (the bytes a network sent, kept verbatim) into a
normalised inbound message, and — where the network allows it — fetches new deliveries
since a cursor, verifies webhooks and publishes. Everything after normalising (storing,
deduplicating, triage, routing) is the same for every network: see inbox.actions.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar

from beatdesk.networks.length import PLAIN, Counting

if TYPE_CHECKING:
    from beatdesk.networks.models import NetworkAccount
    from beatdesk.networks.search import FoundPost, SearchResult, SearchTerm


class PayloadError(ValueError):
    """A delivery that cannot be read; it is kept verbatim as a dead letter."""


class NotSupported(Exception):
    """The network (or this connector) does not offer the operation asked for."""


class TransientError(Exception):
    """The network failed in a way worth retrying (5xx, timeout, connection refused).

    `retry_after` is seconds to wait when the network said so (a rate limit's reset)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(TransientError):
    """The network said 429: wait until its reset time before the next call."""


class NetworkRefused(Exception):
    """The network refused the request for good (bad credentials, forbidden, gone)."""


@dataclass(frozen=True)
class Budget:
    """What the network said about its rate limit on the last call."""

    remaining: int | None = None
    limit: int | None = None
    resets_at: float | None = None  # unix time


@dataclass(frozen=True)
class Inbound:
    """One message, normalised. `network` is the network it belongs to, which for recorded
    traffic (the replay connector) may differ from the connector that delivered it."""

    network: str
    external_id: str
    author_handle: str
    text: str
    created_at: dt.datetime
    author_name: str = ""
    reply_to: str = ""
    thread_id: str = ""
    language: str = ""
    account_handle: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class FetchResult:
    """New deliveries, oldest first, each the network's JSON for one item, verbatim; and
    the cursor to resume from once they are stored."""

    bodies: list[str]
    cursor: str
    budget: Budget = Budget()


@dataclass(frozen=True)
class MediaItem:
    """One image to post: its bytes, file name, MIME type and the alt text people hear."""

    data: bytes
    filename: str
    content_type: str
    alt_text: str


@dataclass(frozen=True)
class PostOptions:
    """Everything a post may carry besides its text, the same for every network.

    `idempotency_key` names this post across retries; `created_at` and `part` are fixed when
    the post is written, so a network that lets the sender name its record (Bluesky) names
    the same record on every attempt. A network uses what it supports and refuses what it
    cannot do (media on a network without uploads is NotSupported, never silently dropped).
    `visibility` narrows who sees a post where the network has audiences (Mastodon's
    public, unlisted, private, direct); elsewhere a post is as public as the account."""

    reply_to: str = ""
    idempotency_key: str = ""
    media: tuple[MediaItem, ...] = ()
    created_at: dt.datetime | None = None
    part: int = 1
    visibility: str | None = None


NO_OPTIONS = PostOptions()


@dataclass(frozen=True)
class LostSend:
    """A send a dead worker left unfinished: its text, its options, and when the worker
    took it (None when unknown)."""

    text: str
    options: PostOptions
    claimed_at: dt.datetime | None = None


@dataclass(frozen=True)
class PostCounts:
    """How far one published post went, as the network counts it."""

    reposts: int
    likes: int
    replies: int
    impressions: int | None = None


@dataclass(frozen=True)
class Recovery:
    """What the network can say about a send whose answer was lost (the worker died).

    outcome: "found" (it is there: `external_id`), "resend" (it is not, or sending again
    cannot post twice) or "check" (the network cannot say: a person looks)."""

    outcome: str
    detail: str
    external_id: str = ""


@dataclass(frozen=True)
class Field:
    """One thing a network account needs to connect; a secret one is never shown again."""

    name: str
    label: str
    secret: bool = False
    required: bool = True


class Network:
    """One network, as the desk sees it: what it can do, and how.

    Each capability is a class attribute the product reads (never the network's kind), and
    each operation a network lacks answers NotSupported with a sentence a user can read.
    """

    kind: ClassVar[str]
    label: ClassVar[str] = ""  # the network's name on screen ("X", "Bluesky")
    can_fetch: ClassVar[bool] = False
    can_publish: ClassVar[bool] = False
    can_start_posts: ClassVar[bool] = True  # when it publishes: new posts, not only replies
    publishes_publicly: ClassVar[bool] = True  # what it sends is public (email is not)
    can_thread: ClassVar[bool] = False  # a long post may go out as numbered replies
    can_upload_media: ClassVar[bool] = False
    can_edit: ClassVar[bool] = False
    can_delete: ClassVar[bool] = False
    can_hide_comments: ClassVar[bool] = False
    can_count_reach: ClassVar[bool] = False
    can_search: ClassVar[bool] = False
    # Whether an emergency read in its items is someone asking for help (not for a news
    # feed: a story about an emergency reports events, it is not a call for help).
    reports_emergencies: ClassVar[bool] = True
    # What a watch may follow on this network (hashtag, keyword, phrase, place, feed); empty
    # when it offers no public search. `search_needs_account`: searched through one of the
    # force's own accounts there.
    watch_kinds: ClassVar[frozenset[str]] = frozenset()
    search_needs_account: ClassVar[bool] = False
    # How a post whose answer was lost is settled, in words for the desk.
    recovery_guarantee: ClassVar[str] = (
        "A person checks: the network cannot say whether a post whose answer was lost arrived."
    )
    counting: ClassVar[Counting | None] = None  # how it counts a post's length, and its limit
    credential_fields: ClassVar[tuple[Field, ...]] = ()

    @property
    def name(self) -> str:
        return self.label or self.kind

    @property
    def starts_posts(self) -> bool:
        """It publishes posts of its own (not only replies): composer, live events, feeds."""
        return self.can_publish and self.can_start_posts

    # -- in ---------------------------------------------------------------------------------

    def normalise(self, body: str) -> Inbound:
        raise NotImplementedError

    def fetch(self, account: NetworkAccount, cursor: str) -> FetchResult:
        raise NotSupported(f"{self.name} does not fetch; it delivers")

    def webhook(self) -> Webhook | None:
        """How this network pushes deliveries (verify, then split into events); None when
        it does not push."""
        return None

    # -- watches ------------------------------------------------------------------------------

    def search(self, term: SearchTerm) -> SearchResult:
        raise NotSupported(f"{self.name} offers no public search the desk can watch")

    def read_found(self, raw: str) -> FoundPost:
        """A found item kept as a dead letter, read again after a fix."""
        raise NotSupported(f"{self.name} keeps no watch items to read again")

    def term_problem(self, kind: str, query: str) -> str:
        """Why this network cannot search for this term ('' when it can)."""
        return ""

    # -- out ----------------------------------------------------------------------------------

    def publish(self, account: NetworkAccount, text: str, options: PostOptions = NO_OPTIONS) -> str:
        """Post `text` with `options`; the new item's id on the network."""
        raise NotSupported(f"{self.name} cannot publish")

    def reply_target(self, external_id: str, author_handle: str, text: str) -> str:
        """What `PostOptions.reply_to` holds to answer this item: its id, unless the network
        needs more (email needs whom to write to and about what)."""
        return external_id

    def sent_before(self, account: NetworkAccount, options: PostOptions) -> str:
        """The id of this post if an earlier attempt whose answer was lost did arrive, where
        the network can say so cheaply ('' otherwise): a retry then never posts twice."""
        return ""

    def recover(self, account: NetworkAccount, lost: LostSend) -> Recovery:
        """Settle a send a dead worker left unfinished (see recovery_guarantee)."""
        return Recovery("check", f"{self.name} cannot say whether it arrived: check there")

    def edit(self, account: NetworkAccount, external_id: str, text: str) -> None:
        raise NotSupported(
            f"{self.name} does not let a post be edited: delete it and post a correction"
        )

    def delete(self, account: NetworkAccount, external_id: str) -> None:
        raise NotSupported(
            f"{self.name} posts are removed on the network itself, not from the desk"
        )

    def hide_comment(self, account: NetworkAccount, comment_id: str, hidden: bool = True) -> None:
        raise NotSupported(f"{self.name} does not let the desk hide a comment")

    # -- length -------------------------------------------------------------------------------

    @property
    def length_limit(self) -> int | None:
        return self.counting.limit if self.counting is not None else None

    def count_length(self, text: str) -> int:
        """The length of `text` as this network counts it (graphemes when it says nothing)."""
        return (self.counting or PLAIN).count(text)

    def length_units(self, text: str) -> list[tuple[int, int, int]]:
        """(start, end, weight) pieces of `text` as this network counts them."""
        return (self.counting or PLAIN).units(text)

    # -- reach --------------------------------------------------------------------------------

    def follower_count(self, account: NetworkAccount) -> int:
        raise NotSupported(f"{self.name} does not report followers to the desk")

    def post_counts(
        self, account: NetworkAccount, external_ids: list[str]
    ) -> dict[str, PostCounts]:
        """Counts for the account's posts by id; a post the network no longer has is left out."""
        raise NotSupported(f"{self.name} does not report reach to the desk")

    # -- credentials (the setup issue builds the flows) ---------------------------------------

    def connect(self, account: NetworkAccount, answer: dict[str, str]) -> dict[str, Any]:
        """Credentials for `account` from the network's answer to a sign-in (OAuth)."""
        raise NotSupported(f"{self.name} is connected by entering its credentials by hand")

    def refresh_credentials(self, account: NetworkAccount) -> dict[str, Any]:
        """New credentials before the old ones expire."""
        raise NotSupported(f"{self.name} credentials are not refreshed by the desk")


@dataclass(frozen=True)
class HookAnswer:
    """What the webhook endpoint answers a network's GET: a status, a body, its type."""

    status: int
    body: str
    content_type: str = "application/json"


class Webhook:
    """A network's push, served at /hooks/<route>/<account id>/: the handshake, the
    signature check and the split into events (networks/webhooks.py does the rest: a
    forged push is never stored; every event goes through the one ingestion path).

    `unavailable` says why the account cannot take pushes yet ('' when it can: 503
    otherwise); `handshake` answers a GET (X's CRC, Meta's hub.challenge); `verify` says
    why a POST is not genuine ('' when it is: 401 otherwise); `split` turns one push into
    one body per event, dropping our own posts."""

    route: ClassVar[str]

    def unavailable(self, credentials: Mapping[str, Any]) -> str:
        return ""

    def handshake(self, credentials: Mapping[str, Any], query: Mapping[str, str]) -> HookAnswer:
        raise NotImplementedError

    def verify(
        self, credentials: Mapping[str, Any], body: bytes, headers: Mapping[str, str]
    ) -> str:
        raise NotImplementedError

    def split(self, body: bytes) -> list[str]:
        raise NotImplementedError


def count_of(value: object) -> int:
    """A count the network reported: itself when a whole number of at least 0, else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def as_list(value: Any) -> list[Any]:
    """A field that should be a list: itself when it is one, else empty (never its keys or
    characters)."""
    return value if isinstance(value, list) else []


def read_json(body: str | bytes, what: str) -> Any:
    """The JSON of a delivery; PayloadError saying why when it is not UTF-8, not JSON,
    nested deeper than a parser can follow, or holds a number too long to read."""
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"{what} is not JSON: {exc.msg} at column {exc.colno}") from exc
    except UnicodeDecodeError as exc:
        raise PayloadError(f"{what} is not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except RecursionError as exc:
        raise PayloadError(f"{what} is JSON nested too deeply to read") from exc
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise PayloadError(f"{what} is not readable JSON: {exc}") from exc


def parse_time(value: Any) -> dt.datetime:
    """ISO 8601 (with Z or offset) or Twitter's 'Wed Jan 07 11:06:08 +0000 2015'; UTC out."""
    try:
        return _parse_time(value)
    except PayloadError:
        raise
    except (OverflowError, OSError, ValueError, TypeError, IndexError) as exc:
        # A timestamp or date beyond what a datetime holds (year 1 to 9999, UTC).
        raise PayloadError(f"time out of range {value!r}"[:200]) from exc


def _parse_time(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, int | float):
        parsed = dt.datetime.fromtimestamp(value, tz=dt.UTC)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                parsed = dt.datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")
            except ValueError:
                try:
                    parsed = parsedate_to_datetime(text)
                except (TypeError, ValueError) as exc:
                    raise PayloadError(f"unreadable time {text[:100]!r}") from exc
    else:
        raise PayloadError(f"unreadable time {value!r}"[:200])
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)
