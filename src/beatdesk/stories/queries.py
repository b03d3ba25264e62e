"""Reading stories, rumours and operation boards: the only way views obtain them.

Stories gather posts from the whole force (and an operation's watches), so they are for the
roles that read force-wide: the desk, supervisors, analysts and administrators. Each read is
audited as a consultation, with the watches' purposes when the posts came from watches.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet

from beatdesk.accounts.access import hide, refuse
from beatdesk.accounts.policy import reads_force_wide
from beatdesk.audit.actions import Category, record
from beatdesk.core.clock import now
from beatdesk.core.digest import digest_of
from beatdesk.live.reach import reach_series as post_reach
from beatdesk.monitoring.models import Operation, WatchPost
from beatdesk.stories.models import Rumour, Spike, Story, StoryMember, VolumeBucket
from beatdesk.stories.spikes import BUCKET, bucket_of

if TYPE_CHECKING:
    from beatdesk.accounts.models import User
    from beatdesk.monitoring.models import Operation

GROWTH_WINDOW = dt.timedelta(minutes=30)
BOARD_SPAN = dt.timedelta(hours=6)


def check_reader(user: User, object_type: str, object_id: object) -> None:
    if not reads_force_wide(user) or user.force_id is None:
        refuse(user, object_type, object_id, "stories and rumours are for force-wide roles")


def visible_stories(user: User) -> QuerySet[Story]:
    if not reads_force_wide(user) or user.force_id is None:
        return Story.objects.none()
    return Story.objects.filter(force=user.force)


def visible_rumours(user: User) -> QuerySet[Rumour]:
    if not reads_force_wide(user) or user.force_id is None:
        return Rumour.objects.none()
    return Rumour.objects.filter(force=user.force)


def purpose_of(operation: Operation | None) -> str:
    """Why these posts may be read: the operation's watches' purposes."""
    if operation is None:
        return "the force's inbox"
    purposes = sorted(set(operation.watches.values_list("purpose", flat=True)))
    return f"operation {operation.name}: " + ("; ".join(purposes) or "no watch yet")


def audit_list(user: User, what: str, description: str) -> None:
    with transaction.atomic():
        record(
            user,
            Category.CONSULTATION,
            what,
            object_type="stories.story",
            justification=description,
        )


def register(user: User) -> dict[str, Any]:
    """The rumour register and the stories proposed as rumours (audited as one consultation)."""
    check_reader(user, "stories.rumour", "register")
    rumours = list(visible_rumours(user).select_related("owner", "story", "rebuttal"))
    candidates = list(
        visible_stories(user)
        .filter(candidate_since__isnull=False, rumour__isnull=True)
        .select_related("operation")
        .order_by("-candidate_since")[:50]
    )
    inbox = visible_stories(user).filter(operation__isnull=True, size__gt=1)
    newest = inbox.order_by("-last_seen").values_list("last_seen", flat=True).first()
    audit_list(user, "rumours.list", "rumour register, candidates and inbox stories")
    return {
        "rumours": rumours,
        "candidates": candidates,
        "inbox_stories": story_rows(inbox, newest) if newest else [],
    }


def access_story(user: User, story_id: int, *, purpose: str = "story view") -> Story:
    check_reader(user, "stories.story", story_id)
    story = visible_stories(user).select_related("operation").filter(pk=story_id).first()
    if story is None:
        hide(
            user,
            "stories.story",
            story_id,
            "the story is another force's",
            exists=Story.objects.filter(pk=story_id).exists(),
        )
    with transaction.atomic():
        record(
            user,
            Category.CONSULTATION,
            "story.view",
            story,
            justification=f"{purpose} ({purpose_of(story.operation)})",
        )
    return story


def access_rumour(user: User, rumour_id: int, *, purpose: str = "rumour view") -> Rumour:
    check_reader(user, "stories.rumour", rumour_id)
    rumour = (
        visible_rumours(user)
        .select_related("owner", "story__operation", "rebuttal__account")
        .filter(pk=rumour_id)
        .first()
    )
    if rumour is None:
        hide(
            user,
            "stories.rumour",
            rumour_id,
            "the rumour is another force's",
            exists=Rumour.objects.filter(pk=rumour_id).exists(),
        )
    with transaction.atomic():
        record(user, Category.CONSULTATION, "rumour.view", rumour, justification=purpose)
    return rumour


@dataclass
class StoryRow:
    story: Story
    recent: int
    before: int

    @property
    def growth(self) -> str:
        if self.before == 0:
            return f"+{self.recent} new" if self.recent else "quiet"
        return f"×{self.recent / self.before:.1f}"


def story_rows(stories: QuerySet[Story], at: dt.datetime, limit: int = 10) -> list[StoryRow]:
    """The biggest stories (two posts or more) active in the last 6 hours before `at`, with
    posts in the last 30 minutes against the 30 before (growth rate)."""
    annotated = (
        stories.filter(last_seen__gte=at - BOARD_SPAN, size__gt=1)
        .annotate(
            recent=Count("members", filter=Q(members__posted_at__gt=at - GROWTH_WINDOW)),
            before=Count(
                "members",
                filter=Q(
                    members__posted_at__gt=at - 2 * GROWTH_WINDOW,
                    members__posted_at__lte=at - GROWTH_WINDOW,
                ),
            ),
        )
        .order_by("-size", "-last_seen")[:limit]
    )
    return [StoryRow(s, s.recent, s.before) for s in annotated]  # type: ignore[attr-defined]


def spread_series(story: Story | None) -> list[list[float]]:
    """[[unix time, posts so far], …]: the story's cumulative spread."""
    if story is None:
        return []
    times = StoryMember.objects.filter(story=story).order_by("posted_at")
    return [[t.timestamp(), n] for n, t in enumerate(times.values_list("posted_at", flat=True), 1)]


def reach_series(rumour: Rumour) -> list[list[float]]:
    """[[unix time, reach], …] of the rebuttal (see live.reach.reach_series); 0 when it was
    sent, before any snapshot."""
    post = rumour.rebuttal
    if post is None:
        return []
    points = [[post.sent_at.timestamp(), 0.0]] if post.sent_at is not None else []
    points += [[taken.timestamp(), float(reach)] for taken, reach in post_reach(post)]
    return points


def access_board(user: User, operation_id: int, *, audit: bool = True) -> Operation:
    """An operation, for its board: audited as a consultation with its watches' purposes
    (the live updates call `audit_board` when what they show has changed)."""
    check_reader(user, "monitoring.operation", operation_id)
    operation = Operation.objects.filter(pk=operation_id, force=user.force).first()
    if operation is None:
        hide(
            user,
            "monitoring.operation",
            operation_id,
            "the operation is another force's",
            exists=Operation.objects.filter(pk=operation_id).exists(),
        )
    if audit:
        audit_board(user, operation, [])
    return operation


def audit_board(user: User, operation: Operation, shown: list[Any]) -> None:
    with transaction.atomic():
        record(
            user,
            Category.CONSULTATION,
            "board.view",
            operation,
            justification=purpose_of(operation),
            payload=shown or None,
        )


def board_digest(context: dict[str, Any]) -> tuple[str, list[Any]]:
    """What a board update shows (stories and their sizes, posts on the map), and its digest:
    a live update that shows nothing new is not recorded again."""
    shown = [
        [[row.story.pk, row.story.size] for row in context["stories"]],
        [s.pk for s in context["spikes"]],
        len(context["board_data"]["map"]["points"]),
    ]
    return digest_of(shown), shown


def board(operation: Operation) -> dict[str, Any]:
    """Everything the operation board shows, as of the newest post collected."""
    posts = WatchPost.objects.filter(watch__operation=operation)
    newest = posts.order_by("-posted_at").values_list("posted_at", flat=True).first()
    at = newest or operation.created_at
    since = at - BOARD_SPAN
    watches = {w.pk: w.name for w in operation.watches.all()}
    volume: dict[str, dict[float, int]] = {}
    buckets = VolumeBucket.objects.filter(
        operation=operation, watch__isnull=False, start__gte=since
    ).values_list("watch_id", "start", "count")
    for watch_id, start, n in buckets:
        volume.setdefault(watches.get(watch_id, str(watch_id)), {})[start.timestamp()] = n
    first = bucket_of(since)
    steps = [(first + i * BUCKET).timestamp() for i in range(int(BOARD_SPAN / BUCKET) + 1)]
    located = list(
        posts.filter(latitude__isnull=False, longitude__isnull=False, posted_at__gte=since)
        .order_by("-posted_at")
        .values("latitude", "longitude", "text", "posted_at")[:500]
    )
    volume_data = {
        "x": steps,
        "series": [
            {"name": name, "y": [counts.get(s, 0) for s in steps]}
            for name, counts in sorted(volume.items())
        ],
    }
    map_data = {
        "outline": operation.area_outline or [],
        "points": [
            [p["latitude"], p["longitude"], p["text"][:140], p["posted_at"].isoformat()]
            for p in located
        ],
    }
    return {
        "at": at,
        "board_data": {"volume": volume_data, "map": map_data},
        "spikes": list(
            Spike.objects.filter(operation=operation)
            .select_related("watch")
            .annotate(n_posts=Count("posts"))[:20]
        ),
        "stories": story_rows(Story.objects.filter(operation=operation), at),
        "rumours": list(Rumour.objects.filter(story__operation=operation).select_related("owner")),
    }


def recent_spikes(user: User, hours: int = 2) -> list[Spike]:
    """Spikes detected in the last hours on the user's force's operations (for the bar)."""
    if not reads_force_wide(user) or user.force_id is None:
        return []
    return list(
        Spike.objects.filter(
            operation__force=user.force, detected_at__gte=now() - dt.timedelta(hours=hours)
        ).select_related("operation", "watch")[:5]
    )
