"""The demo's live event: #wmp24, a day in Westmere's control room, with its latest entries
from the sample incident log waiting for approval."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from beatdesk.accounts.models import Force, User
from beatdesk.core.clock import now
from beatdesk.live.actions import do_add_entries, do_create_event, event_accounts
from beatdesk.live.entries import LONDON
from beatdesk.live.importing import read_log
from beatdesk.live.models import LiveEvent

SAMPLE = Path(__file__).resolve().parent / "data" / "sample_incident_log.csv"
ENTRIES = 8
KINDS = ("x", "bluesky", "mastodon")


def seed_live_event(force: Force) -> LiveEvent:
    local = now().astimezone(LONDON)
    start = local.replace(hour=5, minute=0, second=0, microsecond=0)
    if start > local:
        start -= dt.timedelta(days=1)
    event, _ = do_create_event(
        force,
        name="Westmere 24: a day in the control room",
        hashtag="#wmp24",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=24),
        accounts=list(event_accounts(force).filter(kind__in=KINDS, scope="force")),
        pacing_minutes=2,
        actor=User.objects.get(force=force, username="dana.desk"),
    )
    with SAMPLE.open(encoding="utf-8", newline="") as lines:
        entries = [e for e in read_log(lines, event) if e.occurred_at <= now()]
    do_add_entries(event, entries[-ENTRIES:], "csv", actor=None)
    return event
