"""Writes of the rumour register: promote a story, set status and owner, add evidence, link
the rebuttal. check_* authorizes and validates; do_* writes and audits in one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from beatdesk.accounts.access import guard
from beatdesk.accounts.models import Role, User
from beatdesk.audit.actions import Category, record
from beatdesk.core.clock import now
from beatdesk.publishing.models import Post
from beatdesk.stories.models import Rumour, RumourNote, Story
from beatdesk.stories.queries import visible_rumours, visible_stories

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from beatdesk.accounts.models import User as UserType

RUMOUR_WRITERS = frozenset({Role.DESK_OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR})


def _writer(user: UserType, visible: QuerySet[Any], object_type: str, object_id: int) -> None:
    guard(
        user,
        user.is_active and user.is_staff_role and user.role in RUMOUR_WRITERS,
        visible,
        object_id,
        object_type=object_type,
        refused="this role cannot change the rumour register",
        hidden="the record is not this force's",
    )


def _rumour(user: UserType, rumour_id: int) -> Rumour:
    _writer(user, visible_rumours(user), "stories.rumour", rumour_id)
    return visible_rumours(user).get(pk=rumour_id)


def check_promote(user: UserType, story_id: int, *, claim: str = "") -> Rumour:
    _writer(user, visible_stories(user), "stories.story", story_id)
    story = visible_stories(user).get(pk=story_id)
    if Rumour.objects.filter(story=story).exists():
        raise ValidationError("this story is already in the rumour register")
    claim = (claim or story.headline).strip()[:300]
    if not claim:
        raise ValidationError("say what the rumour claims")
    return do_promote(user, story, claim)


def do_promote(user: UserType, story: Story, claim: str) -> Rumour:
    at = now()
    with transaction.atomic():
        rumour = Rumour.objects.create(
            force_id=story.force_id,
            story=story,
            claim=claim,
            owner=user,
            created_by=user,
            created_at=at,
            updated_at=at,
        )
        record(
            user,
            Category.ALTERATION,
            "rumour.promoted",
            rumour,
            justification=f"story {story.pk} ({story.size} posts) promoted: {claim}",
        )
    return rumour


def check_update(user: UserType, rumour_id: int, *, status: str, owner_id: int) -> Rumour:
    rumour = _rumour(user, rumour_id)
    if status not in Rumour.Status.values:
        raise ValidationError(f"unknown status {status!r}")
    owner = User.objects.filter(
        pk=owner_id, force=user.force, is_active=True, role__in=RUMOUR_WRITERS
    ).first()
    if owner is None:
        raise ValidationError("the owner must be an active desk operator or supervisor")
    return do_update(user, rumour, status=status, owner=owner)


def do_update(user: UserType, rumour: Rumour, *, status: str, owner: UserType) -> Rumour:
    before = f"{rumour.status}/{rumour.owner_id}"
    with transaction.atomic():
        rumour.status = status
        rumour.owner = owner
        rumour.updated_at = now()
        rumour.save(update_fields=["status", "owner", "updated_at"])
        record(
            user,
            Category.ALTERATION,
            "rumour.updated",
            rumour,
            justification=f"status/owner {before} → {status}/{owner.pk}",
        )
    return rumour


def check_add_note(user: UserType, rumour_id: int, *, text: str) -> RumourNote:
    rumour = _rumour(user, rumour_id)
    text = text.strip()
    if not text:
        raise ValidationError("a note needs some text")
    return do_add_note(user, rumour, text)


def do_add_note(user: UserType, rumour: Rumour, text: str) -> RumourNote:
    at = now()
    with transaction.atomic():
        note = RumourNote.objects.create(rumour=rumour, author=user, text=text, created_at=at)
        Rumour.objects.filter(pk=rumour.pk).update(updated_at=at)
        record(user, Category.ALTERATION, "rumour.noted", rumour, payload=text)
    return note


def rebuttal_choices(user: UserType) -> list[Post]:
    """The force's posts that can be linked as a rebuttal: sent or on their way."""
    return list(
        Post.objects.filter(
            force=user.force,
            internal=False,
            in_reply_to__isnull=True,
            status__in=[
                Post.Status.SENT,
                Post.Status.SCHEDULED,
                Post.Status.AWAITING_APPROVAL,
                Post.Status.DRAFT,
            ],
        )
        .select_related("account")
        .order_by("-created_at")[:50]
    )


def check_link_rebuttal(user: UserType, rumour_id: int, *, post_id: int) -> Rumour:
    rumour = _rumour(user, rumour_id)
    post = Post.objects.filter(
        pk=post_id, force=user.force, internal=False, in_reply_to__isnull=True
    ).first()
    if post is None:
        raise ValidationError("choose one of the force's own posts as the rebuttal")
    return do_link_rebuttal(user, rumour, post)


def do_link_rebuttal(user: UserType, rumour: Rumour, post: Post) -> Rumour:
    with transaction.atomic():
        rumour.rebuttal = post
        rumour.updated_at = now()
        rumour.save(update_fields=["rebuttal", "updated_at"])
        record(
            user,
            Category.ALTERATION,
            "rumour.rebuttal_linked",
            rumour,
            justification=f"post {post.pk} ({post.get_status_display()})",
        )
    return rumour
