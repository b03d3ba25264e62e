"""How far the force's posts go, and how its following grows: counts asked of each network.

`take_snapshots()` runs from the poll loop, at most every BEATDESK_REACH_EVERY_MINUTES
(15 by default): for each account with credentials on a network that reports reach
(`Network.can_count_reach`) it records the follower count and, for every post the account
published in the last REACH_DAYS, the reposts, likes, replies and (where the network counts
them) views. A network that fails is skipped until the next
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
from beatdesk.networks.base import (
    NetworkRefused,
    NotSupported,
    PayloadError,
    PostCounts,
    TransientError,
)
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import connector, kinds
from beatdesk.publishing.models import Post

log = logging.getLogger(__name__)

REACH_DAYS = 3


@dataclass
class Round:
    """What one round of snapshots took."""

    accounts: int = 0
    posts: int = 0
    failures: int = 0
    skipped: bool = False


def _counts(account: NetworkAccount, posts: list[Post]) -> tuple[int, dict[int, PostCounts]]:
    """The account's followers and its posts' counts, asked of its network."""
    network = connector(account.kind)
    followers = network.follower_count(account)
    by_id = {post.external_id: post.pk for post in posts}
    counts = network.post_counts(account, list(by_id)) if by_id else {}
    return followers, {by_id[i]: c for i, c in counts.items() if i in by_id}


# -- the round -------------------------------------------------------------------------------


def _every() -> dt.timedelta:
    return dt.timedelta(minutes=getattr(settings, "BEATDESK_REACH_EVERY_MINUTES", 15))


def _due(moment: dt.datetime) -> bool:
    newest = FollowerSnapshot.objects.order_by("-taken_at").values_list("taken_at", flat=True)
    last = newest.first()
    return last is None or moment - last >= _every()


def snapshot_accounts() -> Iterable[NetworkAccount]:
    return NetworkAccount.objects.filter(is_active=True, kind__in=kinds("can_count_reach")).exclude(
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
            followers, counts = _counts(account, posts)
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
