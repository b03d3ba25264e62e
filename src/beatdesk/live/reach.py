"""How far the force's posts go, and how its following grows: counts asked of each network.

`take_snapshots()` runs from the poll loop, at most every BEATDESK_REACH_EVERY_MINUTES
(15 by default): for each Mastodon, Bluesky and X account with credentials it records the
follower count and, for every post the account published in the last REACH_DAYS, the
reposts, likes, replies and (X only) views. A network that fails is skipped until the next
round; the others still count.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from beatdesk.core.clock import now
from beatdesk.live.models import FollowerSnapshot, ReachSnapshot
from beatdesk.networks.base import NetworkRefused, NotSupported, PayloadError, TransientError
from beatdesk.networks.models import NetworkAccount
from beatdesk.publishing.models import Post

log = logging.getLogger(__name__)

REACH_DAYS = 3
KINDS = ("mastodon", "bluesky", "x")


@dataclass(frozen=True)
class Counts:
    """One post's counts as a network reports them."""

    reposts: int
    likes: int
    replies: int
    impressions: int | None = None


@dataclass
class Round:
    """What one round of snapshots took."""

    accounts: int = 0
    posts: int = 0
    failures: int = 0
    skipped: bool = False


def _int(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


# -- per network ----------------------------------------------------------------------------


def _mastodon(account: NetworkAccount, posts: list[Post]) -> tuple[int, dict[int, Counts]]:
    from beatdesk.networks.mastodon.client import client_for, get_status, verify_credentials

    client = client_for(account)
    followers = _int(verify_credentials(client).get("followers_count"))
    counts = {}
    for post in posts:
        try:
            status = get_status(client, post.external_id)
        except NetworkRefused:
            continue  # deleted (404/410): nothing to count
        counts[post.pk] = Counts(
            reposts=_int(status.get("reblogs_count")),
            likes=_int(status.get("favourites_count")),
            replies=_int(status.get("replies_count")),
        )
    return followers, counts


def _bluesky(account: NetworkAccount, posts: list[Post]) -> tuple[int, dict[int, Counts]]:
    from beatdesk.networks.bluesky.client import (
        GET_POSTS_LIMIT,
        Credentials,
        get_posts,
        get_profile,
    )
    from beatdesk.networks.registry import connector

    client = connector("bluesky").client  # type: ignore[attr-defined]
    credentials = Credentials.from_dict(account.get_credentials())
    followers = _int(get_profile(client, credentials).get("followersCount"))
    by_uri = {post.external_id: post.pk for post in posts}
    counts = {}
    uris = list(by_uri)
    for start in range(0, len(uris), GET_POSTS_LIMIT):
        for view in get_posts(client, credentials, uris[start : start + GET_POSTS_LIMIT]):
            pk = by_uri.get(str(view.get("uri")))
            if pk is not None:
                counts[pk] = Counts(
                    reposts=_int(view.get("repostCount")),
                    likes=_int(view.get("likeCount")),
                    replies=_int(view.get("replyCount")),
                )
    return followers, counts


def _x(account: NetworkAccount, posts: list[Post]) -> tuple[int, dict[int, Counts]]:
    from beatdesk.networks.x.client import LOOKUP_LIMIT, get_me, get_post_metrics

    credentials = account.get_credentials()
    me = get_me(credentials)
    metrics = me.get("public_metrics")
    followers = _int(metrics.get("followers_count")) if isinstance(metrics, dict) else 0
    by_id = {post.external_id: post.pk for post in posts}
    ids = list(by_id)
    counts = {}
    for start in range(0, len(ids), LOOKUP_LIMIT):
        for item in get_post_metrics(credentials, ids[start : start + LOOKUP_LIMIT]):
            pk = by_id.get(str(item.get("id")))
            public = item.get("public_metrics")
            if pk is None or not isinstance(public, dict):
                continue
            views = public.get("impression_count")
            counts[pk] = Counts(
                reposts=_int(public.get("retweet_count")),
                likes=_int(public.get("like_count")),
                replies=_int(public.get("reply_count")),
                impressions=views if isinstance(views, int) and views >= 0 else None,
            )
    return followers, counts


_READERS = {"mastodon": _mastodon, "bluesky": _bluesky, "x": _x}


# -- the round -------------------------------------------------------------------------------


def _every() -> dt.timedelta:
    return dt.timedelta(minutes=getattr(settings, "BEATDESK_REACH_EVERY_MINUTES", 15))


def _due(moment: dt.datetime) -> bool:
    newest = FollowerSnapshot.objects.order_by("-taken_at").values_list("taken_at", flat=True)
    last = newest.first()
    return last is None or moment - last >= _every()


def snapshot_accounts() -> Iterable[NetworkAccount]:
    return NetworkAccount.objects.filter(is_active=True, kind__in=KINDS).exclude(
        credentials_encrypted=b""
    )


def take_snapshots(*, force: bool = False) -> Round:
    """Ask each network for follower counts and the reach of recent posts (at most every
    BEATDESK_REACH_EVERY_MINUTES unless `force`)."""
    moment = now()
    if not force and not _due(moment):
        return Round(skipped=True)
    taken = Round()
    for account in snapshot_accounts():
        posts = list(
            Post.objects.filter(
                account=account,
                status=Post.Status.SENT,
                sent_at__gte=moment - dt.timedelta(days=REACH_DAYS),
            ).exclude(external_id="")
        )
        try:
            followers, counts = _READERS[account.kind](account, posts)
        except (TransientError, NetworkRefused, NotSupported, PayloadError, ValueError) as exc:
            taken.failures += 1
            log.warning("reach of %r not taken: %s", account, exc)
            continue
        FollowerSnapshot.objects.create(account=account, taken_at=moment, followers=followers)
        ReachSnapshot.objects.bulk_create(
            ReachSnapshot(
                post_id=pk,
                taken_at=moment,
                impressions=c.impressions,
                reposts=c.reposts,
                likes=c.likes,
                replies=c.replies,
            )
            for pk, c in counts.items()
        )
        taken.accounts += 1
        taken.posts += len(counts)
    return taken


def reach_series(post: Post) -> list[tuple[dt.datetime, int]]:
    """The post's reach over time: views where the network counts them (X), otherwise
    reposts + likes + replies."""
    series = []
    for s in ReachSnapshot.objects.filter(post=post).order_by("taken_at", "pk"):
        reach = s.impressions if s.impressions is not None else s.reposts + s.likes + s.replies
        series.append((s.taken_at, reach))
    return series
