"""Clustering stored posts into stored stories, as they arrive.

Triage calls `cluster_triaged` when it finishes a batch of inbox messages; the watches'
`posts_collected` signal calls `cluster_watch_posts`. Each batch loads the scope's active
stories (centroids, phrasings, recent times) into an engine, adds the posts in time order
and writes the stories and members back in one transaction. A post joins stories once: one
already a member is skipped. Both entry points log their own failures and never raise:
clustering must never lose or hold up a message. What failed stays unclustered, and the
workers' sweeper (operations/sweep.py) hands it to `stories.tasks` to be clustered again, where a
failure fails the task.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from functools import partial
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import transaction
from django.db.models import Q, QuerySet

from beatdesk.accounts.models import Force
from beatdesk.audit.actions import Category, id_range, record_system
from beatdesk.core.clock import now
from beatdesk.core.sql import insert_many, update_many
from beatdesk.monitoring.models import Operation, WatchPost
from beatdesk.stories import spikes
from beatdesk.stories.engine import Assignment, Post, StoryEngine, StoryState, rumour_signal
from beatdesk.stories.models import Story, StoryMember
from beatdesk.triage import signals
from beatdesk.triage.models import Triage

if TYPE_CHECKING:
    from beatdesk.monitoring.models import Operation, WatchPost
    from beatdesk.triage.models import Triage

logger = logging.getLogger(__name__)


# The most active stories of a scope a batch is compared with: bounds the cost of a batch.
ACTIVE_LIMIT = 2000


def _state(story: Story) -> StoryState:
    return StoryState(
        id=story.pk,
        first_seen=story.first_seen,
        last_seen=story.last_seen,
        centroid={int(h): float(w) for h, w in story.centroid},
        size=story.size,
        networks=Counter(story.networks),
        languages=Counter(story.languages),
        phrasings={fp: [text, count] for fp, text, count in story.phrasings},
        rumour_total=story.rumour_total,
        cue_posts=story.cue_posts,
        candidate_since=story.candidate_since,
        updated_at=story.updated_at,
    )


# Each worker process keeps its engines between batches and only reloads what changed.
_ENGINES: dict[tuple[int, int | None], StoryEngine] = {}


def _scope(force_id: int, operation_id: int | None) -> QuerySet[Story]:
    which = Q(operation__isnull=True) if operation_id is None else Q(operation_id=operation_id)
    return Story.objects.filter(which, force_id=force_id)


def engine_for(force_id: int, operation_id: int | None, posts: list[Post]) -> StoryEngine:
    """The scope's engine, in step with the database: stories another worker changed are
    reloaded, stories deleted (retention) or rolled back are dropped or reloaded."""
    engine = _ENGINES.setdefault((force_id, operation_id), StoryEngine())
    since = min(p.at for p in posts) - engine.tuning.window
    engine.expire(since)
    stored = dict(
        _scope(force_id, operation_id)
        .filter(last_seen__gte=since)
        .order_by("-last_seen")
        .values_list("pk", "updated_at")[:ACTIVE_LIMIT]
    )
    for gone in [sid for sid in engine.stories if sid not in stored]:
        engine.drop(gone)
    stale = [
        pk
        for pk, updated_at in stored.items()
        if pk not in engine.stories or engine.stories[pk].updated_at != updated_at
    ]
    if not stale:
        return engine
    states = {s.pk: _state(s) for s in Story.objects.filter(pk__in=stale)}
    newest = max(p.at for p in posts)
    recent = StoryMember.objects.filter(
        story_id__in=list(states), posted_at__gte=newest - 2 * engine.tuning.growth_window
    ).order_by("posted_at")
    for story_id, posted_at in recent.values_list("story_id", "posted_at"):
        states[story_id].recent.append(posted_at)
    for state in states.values():
        engine.load(state)
    return engine


_SAVED = (
    "first_seen",
    "last_seen",
    "size",
    "centroid",
    "phrasings",
    "networks",
    "languages",
    "rumour_total",
    "cue_posts",
    "candidate_since",
    "updated_at",
)


def _centroid(state: StoryState) -> list[list[float]]:
    weights = np.round(np.fromiter(state.centroid.values(), float, len(state.centroid)), 5)
    return list(map(list, zip(state.centroid.keys(), weights.tolist(), strict=True)))


def _save(
    force_id: int,
    operation_id: int | None,
    engine: StoryEngine,
    done: list[Assignment],
    member: Callable[[Post], dict[str, Any]],
) -> None:
    changed = {a.story.id: a.story for a in done}
    at = now()
    # Stored stories are written from plain rows (core.sql takes any object holding the
    # fields): only new ones need model instances, for bulk_create to give them keys.
    rows: dict[Any, Any] = {}
    for sid, state in changed.items():
        values = {
            "first_seen": state.first_seen,
            "last_seen": state.last_seen,
            "size": state.size,
            "centroid": _centroid(state),
            "phrasings": [list(p) for p in state.top_phrasings(20)],
            "networks": dict(state.networks),
            "languages": dict(state.languages),
            "rumour_total": state.rumour_total,
            "cue_posts": state.cue_posts,
            "candidate_since": state.candidate_since,
            "updated_at": at,
        }
        stored = isinstance(sid, int) and sid > 0
        rows[sid] = (
            SimpleNamespace(pk=sid, **values)
            if stored
            else Story(force_id=force_id, operation_id=operation_id, **values)
        )
    linked = [k.removesuffix("_id") for k in member(done[0].post)]  # message or watch_post
    names = ["story", "posted_at", "similarity", *linked]
    with transaction.atomic():
        created = [(sid, s) for sid, s in rows.items() if isinstance(s, Story)]
        Story.objects.bulk_create([s for _, s in created])
        update_many(Story, [s for s in rows.values() if not isinstance(s, Story)], _SAVED)
        members = [
            SimpleNamespace(
                story_id=rows[a.story.id].pk,
                posted_at=a.post.at,
                similarity=round(a.similarity, 4),
                **member(a.post),
            )
            for a in done
        ]
        insert_many(StoryMember, members, names)
        record_system(
            "stories",
            Category.COMBINATION,
            "posts.clustered",
            object_type="stories.story",
            object_id=id_range([s.pk for s in rows.values()]),
            justification=f"{len(done)} post(s) grouped into {len(rows)} story(ies)",
            payload=[[str(a.post.key), rows[a.story.id].pk] for a in done],
        )
    for state in changed.values():
        state.updated_at = at
    for sid, story in created:
        engine.rekey(sid, story.pk)


def _lock_scope(force_id: int, operation_id: int | None) -> None:
    """One worker at a time reads, clusters and writes a scope's stories, so two workers
    never both add to the same story from the same starting size (a lost update). On
    PostgreSQL a row lock on the force or the operation until the transaction ends; SQLite
    already lets one writing transaction run at a time.

    The lock is FOR NO KEY UPDATE: it excludes other clusterers but not the FOR KEY SHARE
    locks that inserting a row referencing the force takes. A plain FOR UPDATE deadlocked
    two workers that had each inserted triage rows for the force before clustering."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("stories are clustered inside a transaction")
    scope = (
        Force.objects.filter(pk=force_id)
        if operation_id is None
        else Operation.objects.filter(pk=operation_id)
    )
    list(scope.select_for_update(no_key=True).values_list("pk", flat=True))


def do_cluster(
    force_id: int,
    operation_id: int | None,
    posts: list[Post],
    member: Callable[[Post], dict[str, Any]],
) -> list[Assignment]:
    """Cluster one scope's batch of posts and store the result."""
    if not posts:
        return []
    posts = sorted(posts, key=lambda p: p.at)
    try:
        _lock_scope(force_id, operation_id)
        posts = _not_yet_members(posts, member)
        if not posts:
            return []
        engine = engine_for(force_id, operation_id, posts)
        done = engine.add_many(posts)
        _save(force_id, operation_id, engine, done, member)
    except BaseException:
        _ENGINES.pop((force_id, operation_id), None)  # ahead of the database: start afresh
        raise
    return done


def _not_yet_members(posts: list[Post], member: Callable[[Post], dict[str, Any]]) -> list[Post]:
    """The posts not in a story yet (read under the scope's lock: a post retried by the
    sweeper while its first clustering was still running joins once)."""
    field = next(iter(member(posts[0])))  # message_id or watch_post_id
    done = set(
        StoryMember.objects.filter(**{f"{field}__in": [p.key for p in posts]}).values_list(
            field, flat=True
        )
    )
    return [p for p in posts if p.key not in done]


def _quietly(what: str, work: Callable[[], object], *, quietly: bool = True) -> None:
    try:
        with transaction.atomic():  # a savepoint: a failure here leaves the caller's work intact
            work()
    except Exception:  # clustering must never stop a message or a collected post
        if not quietly:
            raise
        logger.exception("story clustering failed for %s; the sweeper will retry it", what)


def cluster_triaged(triages: Iterable[Triage], *, quietly: bool = True) -> None:
    """Put freshly triaged inbox messages into the force's stories (never raises unless
    quietly=False, as the sweeper's retry asks)."""
    by_force: dict[int, list[Post]] = defaultdict(list)
    for t in triages:
        m = t.message
        by_force[m.account.force_id].append(
            Post(
                m.pk,
                m.text,
                m.created_at,
                m.network,
                t.language or m.language,
                t.rumour_score,
                signals.rumour_cues(m.text),
            )
        )

    def member(post: Post) -> dict[str, Any]:
        return {"message_id": post.key}

    for force_id, posts in by_force.items():
        _quietly(
            f"inbox of force {force_id}",
            partial(do_cluster, force_id, None, posts, member),
            quietly=quietly,
        )


def cluster_messages(message_ids: list[int]) -> None:
    """Cluster triaged messages whose clustering failed (the sweeper's retry): raises on
    failure, so the task fails and is tried again later."""
    triages = list(
        Triage.objects.filter(message_id__in=message_ids)
        .select_related("message__account")
        .defer("message__raw", "message__attachments")
        .order_by("message_id")
    )
    cluster_triaged(triages, quietly=False)


def _cluster_and_count(
    operation: Operation,
    batch: list[Post],
    posts: list[WatchPost],
    member: Callable[[Post], dict[str, Any]],
) -> None:
    """One transaction: the posts join stories and are counted for spikes together, so a
    failure in either leaves them unclustered and uncounted, and a retry does both once."""
    done = {a.post.key for a in do_cluster(operation.force_id, operation.pk, batch, member)}
    joined = [wp for wp in posts if wp.pk in done]
    if joined:
        spikes.observe(operation, joined)


def cluster_watch_posts(watch_post_ids: list[int], *, quietly: bool = True) -> None:
    """Put collected watch posts into their operation's stories, count their volume and look
    for spikes (never raises unless quietly=False)."""
    posts = list(WatchPost.objects.filter(pk__in=watch_post_ids).select_related("watch__operation"))
    signal = rumour_signal([p.text for p in posts])
    by_operation: dict[int, list[Post]] = defaultdict(list)
    for wp, (score, cues) in zip(posts, signal, strict=True):
        by_operation[wp.watch.operation_id].append(
            Post(wp.pk, wp.text, wp.posted_at, wp.network, wp.language, score, cues)
        )

    def member(post: Post) -> dict[str, Any]:
        return {"watch_post_id": post.key}

    operations = {wp.watch.operation_id: wp.watch.operation for wp in posts}
    for operation_id, batch in by_operation.items():
        mine = [wp for wp in posts if wp.watch.operation_id == operation_id]
        _quietly(
            f"operation {operation_id}",
            partial(_cluster_and_count, operations[operation_id], batch, mine, member),
            quietly=quietly,
        )


def on_posts_collected(sender: object, watch_post_ids: list[int], **kwargs: object) -> None:
    try:
        cluster_watch_posts(list(watch_post_ids))
    except Exception:  # the collector's work is stored; stories are an aid
        logger.exception("stories could not take collected posts")


def on_member_deleted(sender: object, instance: StoryMember, **kwargs: object) -> None:
    """A post leaving (retention, erasure) shrinks its story; a story left empty goes too."""
    from django.db.models import F

    shrunk = Story.objects.filter(pk=instance.story_id, size__gt=1).update(
        size=F("size") - 1, updated_at=now()
    )
    if not shrunk:
        Story.objects.filter(pk=instance.story_id).delete()
