"""Live events: create one, add incident-log entries to it, approve, edit or hold back their
posts. check_* authorises and validates, do_* writes and records the audit event.

Every change of a live post's status goes through :func:`_move_posts`, so the publishing
rules (what may follow awaiting approval) live in one place here.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet

from beatdesk.accounts.access import refuse
from beatdesk.accounts.policy import is_active_staff
from beatdesk.audit.actions import Category, record, record_system
from beatdesk.core.clock import now
from beatdesk.live.entries import (
    EntryIn,
    compose,
    force_places,
    network_kinds,
    redact_entry,
)
from beatdesk.live.models import LiveEntry, LiveEvent
from beatdesk.live.queries import MANAGERS, access_event, token_digest
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import kinds
from beatdesk.publishing.checks import LIMITS, count_characters
from beatdesk.publishing.models import Post
from beatdesk.publishing.tasks import send_due_posts

if TYPE_CHECKING:
    from beatdesk.accounts.models import Force, User
    from beatdesk.networks.models import NetworkAccount


# -- the intake token ------------------------------------------------------------------------


def do_new_token(event: LiveEvent, actor: User | None) -> str:
    """A new intake token; the old one stops working. Returned once, kept only as a digest."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        LiveEvent.objects.filter(pk=event.pk).update(intake_token_hash=token_digest(token))
        event.intake_token_hash = token_digest(token)
        _record(actor, Category.ALTERATION, "live.token_issued", event)
    return token


def _record(actor: User | None, category: str, action: str, obj: object, **kw: object) -> None:
    if actor is None:
        record_system("live", category, action, obj, **kw)  # type: ignore[arg-type]
    else:
        record(actor, category, action, obj, **kw)  # type: ignore[arg-type]


# -- creating an event -----------------------------------------------------------------------


def event_accounts(force: Force) -> QuerySet[NetworkAccount]:
    """The force's accounts a live stream may post from."""
    return NetworkAccount.objects.filter(
        force=force, is_active=True, kind__in=kinds("starts_posts")
    )


def check_create_event(
    user: User,
    *,
    name: str,
    hashtag: str,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    account_ids: Sequence[int],
    pacing_minutes: int,
) -> tuple[LiveEvent, str]:
    if not is_active_staff(user) or user.role not in MANAGERS:
        refuse(user, "live.liveevent", "new", "this role does not run live events")
    assert user.force is not None
    accounts = list(event_accounts(user.force).filter(pk__in=account_ids))
    if not accounts or len(accounts) != len(set(account_ids)):
        raise ValidationError("choose one or more of the force's accounts to post from")
    return do_create_event(
        user.force,
        name=name,
        hashtag=hashtag,
        starts_at=starts_at,
        ends_at=ends_at,
        accounts=accounts,
        pacing_minutes=pacing_minutes,
        actor=user,
    )


def do_create_event(
    force: Force,
    *,
    name: str,
    hashtag: str,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    accounts: Sequence[NetworkAccount],
    pacing_minutes: int,
    actor: User | None,
) -> tuple[LiveEvent, str]:
    """A new event and its intake token (shown once)."""
    name = " ".join((name or "").split())
    hashtag = (hashtag or "").strip()
    if not name:
        raise ValidationError("give the event a name")
    if not hashtag.startswith("#"):
        hashtag = "#" + hashtag
    if len(hashtag) < 2 or not hashtag[1:].replace("_", "").isalnum():
        raise ValidationError("the hashtag is letters, digits and _ only, such as #bsp24")
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        raise ValidationError("the event needs a start and an end after it")
    if ends_at - starts_at > dt.timedelta(days=7):
        raise ValidationError("a live event lasts at most seven days")
    if not 0 <= pacing_minutes <= 120:
        raise ValidationError("pacing is between 0 and 120 minutes")
    if not accounts:
        raise ValidationError("choose one or more accounts to post from")
    with transaction.atomic():
        event = LiveEvent.objects.create(
            force=force,
            name=name[:200],
            hashtag=hashtag[:100],
            starts_at=starts_at,
            ends_at=ends_at,
            pacing_minutes=pacing_minutes,
            created_by=actor,
        )
        event.accounts.set(accounts)
        _record(actor, Category.ALTERATION, "live.event_created", event, justification=hashtag)
        token = do_new_token(event, actor)
    return event, token


# -- adding entries --------------------------------------------------------------------------


@dataclass
class Added:
    """What adding a batch of log lines did."""

    created: list[LiveEntry] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # references already in the event


def do_add_entries(
    event: LiveEvent,
    entries: Sequence[EntryIn],
    source: str,
    *,
    actor: User | None,
    progress: Callable[[int], None] | None = None,
) -> Added:
    """Number, redact and queue for approval every line not in the event yet: one post per
    event account, awaiting approval. All or nothing; a line already added (same source and
    reference) is skipped, so importing the same log twice adds nothing."""
    added = Added()
    accounts = list(event.accounts.all())
    if not accounts:
        raise ValidationError("the event has no accounts to post from")
    kinds = network_kinds(accounts)
    places = force_places(event)
    known = set(event.entries.filter(source=source).values_list("reference", flat=True))
    fresh: list[EntryIn] = []
    for entry in entries:
        if entry.reference in known:
            added.duplicates.append(entry.reference)
        else:
            known.add(entry.reference)
            fresh.append(entry)
    redacted = []
    for done, entry in enumerate(fresh, start=1):
        redacted.append(redact_entry(entry, places))
        if progress is not None and done % 100 == 0:
            progress(100)
    if progress is not None and len(fresh) % 100:
        progress(len(fresh) % 100)
    if not fresh:
        return added
    with transaction.atomic():
        LiveEvent.objects.select_for_update().filter(pk=event.pk).first()
        first = (event.entries.aggregate(n=Max("number"))["n"] or 0) + 1
        rows = []
        for number, (entry, clean) in enumerate(zip(fresh, redacted, strict=True), start=first):
            text = compose(
                event.hashtag,
                number,
                entry.occurred_at,
                clean.type,
                clean.location,
                clean.summary,
                clean.outcome,
                kinds,
            )
            rows.append(
                LiveEntry(
                    event=event,
                    number=number,
                    occurred_at=entry.occurred_at,
                    type=entry.type,
                    location=entry.location,
                    summary=entry.summary,
                    outcome=entry.outcome,
                    raw=entry.raw,
                    text=text,
                    source=source,
                    reference=entry.reference,
                )
            )
        created = LiveEntry.objects.bulk_create(rows, batch_size=500)
        posts = [
            Post(
                force_id=event.force_id,
                account=account,
                author=actor,
                text=row.text,
                kind=Post.Kind.LIVE,
                group=f"live-{event.pk}-{row.number}",
                status=Post.Status.AWAITING_APPROVAL,
                idempotency_key=uuid.uuid4().hex,
            )
            for row in created
            for account in accounts
        ]
        Post.objects.bulk_create(posts, batch_size=500)
        through = LiveEntry.posts.through
        links = [
            through(liveentry_id=row.pk, post_id=post.pk)
            for row, post in zip(
                (r for r in created for _ in accounts),
                posts,
                strict=True,
            )
        ]
        through.objects.bulk_create(links, batch_size=1000)
        _record(
            actor,
            Category.COLLECTION,
            "live.entries_added",
            event,
            justification=f"{len(created)} entries from {source}, numbers {first}-"
            f"{first + len(created) - 1}; {len(added.duplicates)} already there",
        )
    added.created = created
    return added


# -- approving, editing, holding back ----------------------------------------------------------

# The only moves a live post makes here; the sender takes it from SCHEDULED onwards.
_MOVES = {
    Post.Status.SCHEDULED: (Post.Status.AWAITING_APPROVAL,),
    Post.Status.DRAFT: (Post.Status.AWAITING_APPROVAL,),  # held back: never goes out
    Post.Status.AWAITING_APPROVAL: (Post.Status.DRAFT, Post.Status.AWAITING_APPROVAL),
}


def _move_posts(
    post_ids: Sequence[int],
    to: str,
    *,
    scheduled_for: dt.datetime | None = None,
    text: str | None = None,
) -> int:
    """Move live posts to status `to` (and a time, or new text), only from where the move is
    allowed; a post another desk already moved is left alone. Returns how many moved."""
    changes: dict[str, object] = {"status": to}
    if scheduled_for is not None:
        changes["scheduled_for"] = scheduled_for
    if text is not None:
        changes["text"] = text
    return Post.objects.filter(
        pk__in=post_ids, kind=Post.Kind.LIVE, status__in=_MOVES[Post.Status(to)]
    ).update(**changes)


def _next_slots(event: LiveEvent, accounts: Sequence[NetworkAccount]) -> dict[int, dt.datetime]:
    """When each account may next post for this event: now, or the pacing after its last."""
    pacing = dt.timedelta(minutes=event.pacing_minutes)
    last = dict(
        Post.objects.filter(
            live_entries__event=event,
            account__in=accounts,
            status__in=(Post.Status.SCHEDULED, Post.Status.SENDING, Post.Status.SENT),
        )
        .values("account")
        .annotate(last=Max("scheduled_for"))
        .values_list("account", "last")
    )
    current = now()
    return {
        a.pk: max(current, last[a.pk] + pacing) if last.get(a.pk) else current for a in accounts
    }


def _entries(event: LiveEvent, entry_ids: Sequence[int]) -> list[LiveEntry]:
    return list(event.entries.filter(pk__in=entry_ids).prefetch_related("posts").order_by("number"))


def check_approve(user: User, event_id: int, entry_ids: Sequence[int]) -> int:
    """Approve entries' posts: each is scheduled after the one before on its account, the
    event's pacing apart. Returns how many entries were approved."""
    event = access_event(user, event_id, manage=True)
    if not entry_ids:
        raise ValidationError("choose the entries to approve")
    approved = 0
    with transaction.atomic():
        LiveEvent.objects.select_for_update().filter(pk=event.pk).first()
        accounts = list(event.accounts.all())
        slots = _next_slots(event, accounts)
        pacing = dt.timedelta(minutes=event.pacing_minutes)
        numbers = []
        for entry in _entries(event, entry_ids):
            moved = 0
            for post in entry.posts.all():
                if post.status != Post.Status.AWAITING_APPROVAL:
                    continue
                slot = slots.get(post.account_id, now())
                if _move_posts([post.pk], Post.Status.SCHEDULED, scheduled_for=slot):
                    moved += 1
                    slots[post.account_id] = slot + pacing
            if moved:
                approved += 1
                numbers.append(entry.number)
        if approved:
            record(
                user,
                Category.ALTERATION,
                "live.approved",
                event,
                justification=f"entries {', '.join(map(str, numbers))}"[:500],
            )

            transaction.on_commit(send_due_posts)
    return approved


def check_hold_back(user: User, event_id: int, entry_ids: Sequence[int]) -> int:
    """Keep entries out of the stream (a sensitive incident): their posts never go out."""
    event = access_event(user, event_id, manage=True)
    held = 0
    with transaction.atomic():
        for entry in _entries(event, entry_ids):
            if _move_posts([p.pk for p in entry.posts.all()], Post.Status.DRAFT):
                held += 1
                record(user, Category.ALTERATION, "live.held_back", entry)
    return held


def check_edit(user: User, event_id: int, entry_id: int, text: str) -> LiveEntry:
    """Change an entry's post before it is approved; it must still fit every network."""
    event = access_event(user, event_id, manage=True)
    entry = event.entries.filter(pk=entry_id).first()
    if entry is None:
        raise ValidationError("there is no such entry in this event")
    text = " ".join((text or "").split())
    if not text:
        raise ValidationError("the post needs some text")
    for account in event.accounts.all():
        limit = LIMITS.get(account.kind)
        length = count_characters(text, account.kind)
        if limit is not None and length > limit:
            raise ValidationError(
                f"{length} characters: {account.get_kind_display()} allows {limit}"
            )
    with transaction.atomic():
        moved = _move_posts(
            [p.pk for p in entry.posts.all()], Post.Status.AWAITING_APPROVAL, text=text
        )
        if not moved:
            raise ValidationError("only an entry awaiting approval can be edited")
        LiveEntry.objects.filter(pk=entry.pk).update(text=text)
        record(user, Category.ALTERATION, "live.entry_edited", entry, payload=text)
    entry.refresh_from_db()
    return entry
