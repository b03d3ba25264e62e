"""Replaying a recorded incident through a watch: `beatdesk replay FILE --watch NAME`.

The file's records (JSONL or CSV, such as a PHEME event) become the watch's collected posts,
not inbox messages, in the file's own time order and paced at N times real time, in
batches: each batch is stored raw (the record verbatim, every field kept: PHEME's event,
label, veracity, reply-to id …) and announced with posts_collected, as a live collection
is. Replaying a file twice stores nothing new.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from beatdesk.core.clock import now
from beatdesk.monitoring.actions import CollectedPost, do_store_posts
from beatdesk.monitoring.models import Watch
from beatdesk.networks.base import PayloadError, read_json
from beatdesk.networks.replay.client import Recorded, ReplayFileError, iter_schedule, read_file
from beatdesk.networks.replay.inbound import ReplayNetwork
from beatdesk.networks.search import post_of_item

BATCH = 200


def replay_watch(name: str) -> Watch:
    """The watch to replay into, by name ("OPERATION/NAME" when several share the name);
    it must be approved."""
    operation, _, watch_name = name.rpartition("/")
    found = Watch.objects.filter(name=watch_name).select_related("operation")
    if operation:
        found = found.filter(operation__name=operation)
    watches = list(found[:5])
    if not watches:
        raise ReplayFileError(f"no watch named {name!r}: see `beatdesk watches list`")
    if len(watches) > 1:
        names = ", ".join(f"{w.operation.name}/{w.name}" for w in watches)
        raise ReplayFileError(f"several watches are named {watch_name!r}: say which ({names})")
    watch = watches[0]
    if watch.status != Watch.Status.ACTIVE:
        raise ReplayFileError(
            f"watch {watch.name!r} is {watch.get_status_display().lower()}: only an approved "
            "watch collects, replayed or live"
        )
    return watch


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _where(record: dict[str, Any]) -> tuple[float | None, float | None]:
    """A recorded post's point: latitude/longitude fields, or a GeoJSON point [lon, lat]."""
    latitude, longitude = _float(record.get("latitude")), _float(record.get("longitude"))
    if latitude is not None and longitude is not None:
        return latitude, longitude
    geo = record.get("coordinates") or record.get("geo")
    if isinstance(geo, dict) and isinstance(geo.get("coordinates"), list):
        point = geo["coordinates"]
        if len(point) == 2:
            return _float(point[1]), _float(point[0])
    return None, None


def post_of(watch: Watch, record: Recorded, *, shift: dt.timedelta | None) -> CollectedPost:
    """The record as a collected post; `shift` moves its time (rebasing), keeping spacing."""
    # PayloadError when it cannot be read; a record naming no network is the watch's.
    item = ReplayNetwork().normalise_as(record.body, watch.network)
    latitude, longitude = _where(read_json(record.body, "the record"))
    if shift is not None:
        item = dataclasses.replace(item, created_at=item.created_at + shift)
    return post_of_item(item.network, item, record.body, latitude=latitude, longitude=longitude)


def _of_event(record: Recorded, event: str) -> bool:
    try:
        data = read_json(record.body, "the record")
    except PayloadError:
        return False
    return isinstance(data, dict) and str(data.get("event") or "") == event


def replay_into_watch(
    path: Path,
    watch: Watch,
    *,
    speed: float | None,
    rebase_time: bool = False,
    limit: int | None = None,
    event: str = "",
    on_delivery: Callable[[int, int, str], None] | None = None,
) -> Counter[str]:
    """Play the file's records into the watch; counts by outcome (stored, duplicate,
    unreadable, and interrupted when stopped early)."""
    records = read_file(path)
    if event:
        records = [r for r in records if _of_event(r, event)]
        if not records:
            raise ReplayFileError(f"{path}: no records of event {event!r}")
    if limit is not None:
        records = records[:limit]
    # Rebasing moves the whole file so that its last post is now: the posts keep their
    # spacing (spikes are counted on the posts' own times) and none lies in the future.
    shift = None
    if rebase_time:
        times = [r.created_at for r in records if r.created_at is not None]
        shift = now() - max(times) if times else dt.timedelta(0)
    outcomes: Counter[str] = Counter()
    total = len(records)
    done = 0

    def flush(batch: list[Recorded]) -> None:
        nonlocal done
        posts = []
        for record in batch:
            try:
                posts.append(post_of(watch, record, shift=shift))
            except PayloadError:
                outcomes["unreadable"] += 1
        stored = len(do_store_posts(watch, posts, component="replay")) if posts else 0
        outcomes["stored"] += stored
        outcomes["duplicate"] += len(posts) - stored
        done += len(batch)
        if on_delivery is not None:
            on_delivery(done, total, "")

    start = time.monotonic()
    batch: list[Recorded] = []
    try:
        for offset, record in iter_schedule(records, speed):
            if start + offset > time.monotonic() and batch:
                flush(batch)  # everything due so far goes out before waiting for the next
                batch = []
            wait = start + offset - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            batch.append(record)
            if len(batch) >= BATCH:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    except KeyboardInterrupt:
        # Each batch was committed on its own: stopping loses nothing already stored.
        outcomes["interrupted"] = total - done
    return outcomes
