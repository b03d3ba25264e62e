"""Spikes: a watch, or a hashtag within an operation, running far above its own recent volume.

Volume is counted in 5-minute buckets of the posts' own times (so a replayed incident is
measured in its own time). A bucket is compared with the 36 buckets before it (3 hours,
empty buckets counted as 0) by a robust z-score: (count − median) / scale, where scale is
1.4826 × MAD (the median absolute deviation, scaled to a normal standard deviation) but never
less than √median or 1 — a perfectly steady or quiet series has MAD 0, and counts of posts
vary at least like a Poisson count does. A bucket with at least 10 posts and a score of 4 or
more is a spike. A series younger than 30 minutes has no baseline yet and never spikes.

Three hours of 5-minute buckets: long enough that one busy quarter-hour does not become the
baseline, short enough to follow the day's rhythm. Spiking buckets less than 30 minutes
apart are one spike (a surge that dips for a bucket has not ended), alerted once: in the
desk, by email and by webhook.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import statistics
from collections import Counter
from typing import TYPE_CHECKING

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse

from beatdesk.audit import chain
from beatdesk.audit.actions import Category, record_system
from beatdesk.core.clock import now
from beatdesk.monitoring.models import Watch, WatchPost
from beatdesk.stories.engine import hashtags
from beatdesk.stories.models import Spike, VolumeBucket

if TYPE_CHECKING:
    from beatdesk.monitoring.models import Operation, WatchPost

logger = logging.getLogger(__name__)

BUCKET = dt.timedelta(minutes=5)
BASELINE_BUCKETS = 36
MIN_HISTORY = dt.timedelta(minutes=30)
MIN_POSTS = 10
MIN_SCORE = 4.0
COOL_DOWN = dt.timedelta(minutes=30)
POSTS_KEPT = 200
TERMS_PER_POST = 5
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def bucket_of(at: dt.datetime) -> dt.datetime:
    steps = (at - _EPOCH) // BUCKET
    return _EPOCH + steps * BUCKET


def robust_z(history: list[int], count: int) -> tuple[float, float]:
    """The robust z-score of `count` against `history`, and the history's median."""
    median = statistics.median(history) if history else 0.0
    mad = statistics.median([abs(h - median) for h in history]) if history else 0.0
    scale = max(1.4826 * mad, math.sqrt(median), 1.0)
    return (count - median) / scale, float(median)


def _add(operation: Operation, key: str, start: dt.datetime, n: int, **subject: object) -> None:
    found = VolumeBucket.objects.filter(operation=operation, key=key, start=start)
    if found.update(count=F("count") + n):
        return
    try:
        with transaction.atomic():
            VolumeBucket.objects.create(
                operation=operation, key=key, start=start, count=n, **subject
            )
    except IntegrityError:  # another worker created it meanwhile
        found.update(count=F("count") + n)


def count(operation: Operation, posts: list[WatchPost]) -> set[tuple[str, dt.datetime]]:
    """Add the posts to their watch's and hashtags' buckets; the (key, bucket) touched."""
    counts: Counter[tuple[str, dt.datetime]] = Counter()
    subjects: dict[str, dict[str, object]] = {}
    for post in posts:
        start = bucket_of(post.posted_at)
        key = f"watch:{post.watch_id}"
        counts[(key, start)] += 1
        subjects[key] = {"watch_id": post.watch_id}
        for tag in hashtags(post.text)[:TERMS_PER_POST]:
            term = tag[:100]
            counts[(f"term:{term}", start)] += 1
            subjects[f"term:{term}"] = {"term": term}
    existing = {
        (b.key, b.start): b
        for b in VolumeBucket.objects.filter(
            operation=operation,
            key__in={key for key, _ in counts},
            start__in={start for _, start in counts},
        )
    }
    grown = []
    for (key, start), n in counts.items():
        bucket = existing.get((key, start))
        if bucket is not None:
            bucket.count = F("count") + n  # type: ignore[assignment]
            grown.append(bucket)
    VolumeBucket.objects.bulk_update(grown, ["count"])
    fresh = [
        VolumeBucket(operation=operation, key=key, start=start, count=n, **subjects[key])
        for (key, start), n in counts.items()
        if (key, start) not in existing
    ]
    try:
        with transaction.atomic():
            VolumeBucket.objects.bulk_create(fresh)
    except IntegrityError:  # another worker created some meanwhile: add to theirs one by one
        for bucket in fresh:
            _add(operation, bucket.key, bucket.start, bucket.count, **subjects[bucket.key])
    return set(counts)


def score(operation: Operation, key: str, start: dt.datetime) -> tuple[int, float, float] | None:
    """The bucket's count, robust z-score and baseline median; None without a baseline."""
    rows = dict(
        VolumeBucket.objects.filter(
            operation=operation,
            key=key,
            start__gte=start - BASELINE_BUCKETS * BUCKET,
            start__lte=start,
        ).values_list("start", "count")
    )
    first = (
        VolumeBucket.objects.filter(operation=operation, key=key)
        .order_by("start")
        .values_list("start", flat=True)
        .first()
    )
    if first is not None and key.startswith("watch:"):
        # A watch has listened since it started: the buckets before its first post are
        # real zeros, so a quiet watch's first burst can be a spike.
        began = Watch.objects.filter(pk=int(key.partition(":")[2])).values_list(
            "starts_at", flat=True
        )
        if began and bucket_of(began[0]) < first:
            first = bucket_of(began[0])
    if first is None or first > start - MIN_HISTORY:
        return None
    history = [
        rows.get(start - i * BUCKET, 0)
        for i in range(1, BASELINE_BUCKETS + 1)
        if start - i * BUCKET >= first
    ]
    current = rows.get(start, 0)
    z, median = robust_z(history, current)
    return current, z, median


def _posts_of(operation: Operation, key: str, start: dt.datetime) -> list[int]:
    posts = WatchPost.objects.filter(
        watch__operation=operation, posted_at__gte=start, posted_at__lt=start + BUCKET
    )
    kind, _, value = key.partition(":")
    posts = (
        posts.filter(watch_id=int(value))
        if kind == "watch"
        else posts.filter(text__icontains=f"#{value}")
    )
    return list(posts.order_by("posted_at").values_list("pk", flat=True)[:POSTS_KEPT])


def _record(
    operation: Operation, key: str, start: dt.datetime, current: int, z: float, median: float
) -> tuple[Spike, bool]:
    """The spike this bucket belongs to (a continuing one, or a new one) and whether it is new."""
    kind, _, value = key.partition(":")
    ongoing = (
        Spike.objects.filter(operation=operation, key=key, last_bucket__gte=start - COOL_DOWN)
        .order_by("-started_at")
        .first()
    )
    if ongoing is not None:
        ongoing.last_bucket = max(ongoing.last_bucket, start)
        ongoing.peak = max(ongoing.peak, current)
        ongoing.score = max(ongoing.score, round(z, 2))
        ongoing.save(update_fields=["last_bucket", "peak", "score"])
        spike, new = ongoing, False
    else:
        spike, new = Spike.objects.get_or_create(
            operation=operation,
            key=key,
            started_at=start,
            defaults={
                "watch_id": int(value) if kind == "watch" else None,
                "term": value if kind == "term" else "",
                "last_bucket": start,
                "peak": current,
                "baseline": median,
                "score": round(z, 2),
                "detected_at": now(),
            },
        )
    spike.posts.add(*_posts_of(operation, key, start))
    if new:
        record_system(
            "spikes",
            Category.ALTERATION,
            "spike.detected",
            spike,
            justification=f"{spike.subject}: {current} posts in 5 minutes against a median of "
            f"{median:g} (robust z {z:.1f})",
        )
    return spike, new


def observe(operation: Operation, posts: list[WatchPost]) -> list[Spike]:
    """Count a batch of collected posts and record any spike they make; new spikes are
    alerted once the transaction commits."""
    fresh = []
    touched = count(operation, posts)
    # Only buckets with enough posts can spike: one query spares a baseline per quiet series.
    busy = VolumeBucket.objects.filter(
        operation=operation,
        key__in={key for key, _ in touched},
        start__in={start for _, start in touched},
        count__gte=MIN_POSTS,
    ).values_list("key", "start")
    for key, start in sorted(set(busy) & touched):
        scored = score(operation, key, start)
        if scored is None:
            continue
        current, z, median = scored
        if current >= MIN_POSTS and z >= MIN_SCORE:
            spike, new = _record(operation, key, start, current, z, median)
            if new:
                fresh.append(spike)
    for spike in fresh:
        transaction.on_commit(lambda s=spike.pk: alert(s))  # type: ignore[misc]
    return fresh


def board_url(spike: Spike) -> str:
    path = reverse("stories:board", args=[spike.operation_id])
    return getattr(settings, "SITE_URL", "").rstrip("/") + path


def _payload(spike: Spike) -> dict[str, object]:
    return {
        "event": "spike",
        "operation": spike.operation.name,
        "subject": spike.subject,
        "watch": spike.watch.name if spike.watch else None,
        "term": spike.term or None,
        "started_at": spike.started_at.isoformat(),
        "posts_in_peak_bucket": spike.peak,
        "baseline_median": spike.baseline,
        "robust_z": spike.score,
        "board": board_url(spike),
    }


def alert(spike_id: int) -> None:
    """Email and webhook for a new spike, each at most once (claimed before sending)."""
    spike = Spike.objects.select_related("operation", "watch").get(pk=spike_id)
    operation = spike.operation
    errors = []
    if operation.alert_email and Spike.objects.filter(pk=spike.pk, emailed_at__isnull=True).update(
        emailed_at=now()
    ):
        body = "\n".join(f"{k}: {v}" for k, v in _payload(spike).items())
        try:
            send_mail(
                f"Spike on {spike.subject} ({operation.name})",
                body,
                None,
                [operation.alert_email],
            )
            _disclosed(spike, operation.alert_email)
        except Exception as exc:  # a mail server down must not hide the spike from the desk
            errors.append(f"email: {exc}")
    if operation.alert_webhook and Spike.objects.filter(
        pk=spike.pk, webhook_at__isnull=True
    ).update(webhook_at=now()):
        try:
            answer = httpx.post(operation.alert_webhook, json=_payload(spike), timeout=5.0)
            answer.raise_for_status()
            _disclosed(spike, operation.alert_webhook)
        except httpx.HTTPError as exc:
            errors.append(f"webhook: {exc}")
    if errors:
        logger.warning("spike %s alert failed: %s", spike.pk, errors)
        Spike.objects.filter(pk=spike.pk).update(alert_error="; ".join(errors)[:300])


def _disclosed(spike: Spike, recipient: str) -> None:
    with transaction.atomic():
        chain.append(
            actor_id=None,
            actor_label="system:spikes",
            category=Category.DISCLOSURE,
            action="spike.alerted",
            object_type="stories.spike",
            object_id=str(spike.pk),
            justification="spike alert (counts only, no post text)",
            recipient=recipient,
            payload=None,
        )
