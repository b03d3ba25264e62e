"""The composer: write once for several accounts, check before anything goes out, approve,
schedule or send; and the emergency stop."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from beatdesk.accounts.access import refuse
from beatdesk.accounts.models import Role
from beatdesk.accounts.policy import is_active_staff
from beatdesk.audit.actions import Category, record
from beatdesk.core.clock import now
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import kinds, network_label
from beatdesk.publishing.models import Post, PostMedia

if TYPE_CHECKING:
    from beatdesk.accounts.models import User

OVERRIDERS = frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR})
WRITERS = frozenset({Role.OFFICER, Role.DESK_OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR})


def usable_accounts(user: User) -> QuerySet[NetworkAccount]:
    """The accounts this person may post as: their own, their teams', and (desk roles, or
    officers subject to approval) the force's."""
    if not is_active_staff(user) or user.role not in WRITERS:
        return NetworkAccount.objects.none()
    mine = NetworkAccount.objects.filter(
        force=user.force, is_active=True, kind__in=kinds("starts_posts")
    )
    if user.role == Role.OFFICER:
        return mine.filter(
            Q(owner=user) | Q(owning_team__in=user.teams.all()) | Q(scope="force")
        ).distinct()
    return mine


def needs_approval(user: User, account: NetworkAccount) -> bool:
    return user.role == Role.OFFICER and account.scope == NetworkAccount.Scope.FORCE


@dataclass(frozen=True)
class Image:
    """An image to attach, with the alt text that describes it."""

    filename: str
    content_type: str
    data: bytes
    alt_text: str


@dataclass
class Variant:
    """What one account will publish: the text for its network, split into a thread where
    asked and allowed, and what the checks found in it."""

    account: NetworkAccount
    text: str
    parts: list[str]
    findings: list[Any] = field(default_factory=list)
    limit: int | None = None

    @property
    def parts_with_lengths(self) -> list[tuple[str, int]]:
        from beatdesk.publishing.checks import count_characters

        return [(p, count_characters(p, self.account.kind)) for p in self.parts]


def _names(lines: str | None) -> list[str]:
    return [n.strip() for n in (lines or "").splitlines() if n.strip()]


def findings_for(
    text: str, accounts: list[NetworkAccount], kind: str, force: Any, media: Iterable[Any] = ()
) -> list[Any]:
    from beatdesk.publishing.checks import Media, run_checks

    return run_checks(
        text,
        networks=sorted({a.kind for a in accounts}),
        media=[Media(getattr(m, "alt_text", "")) for m in media],
        charged_names=_names(force.charged_names),
        banned_words=_names(force.banned_words),
        post_type=kind,
    )


def variants_for(
    force: Any,
    accounts: list[NetworkAccount],
    *,
    text: str,
    kind: str,
    variants: dict[str, str] | None = None,
    thread: bool = False,
    media: Sequence[Image] = (),
) -> list[Variant]:
    """Each account's variant (its network's own text if one was written), split into a
    thread when asked and the network has threads, with the checks run on every part."""
    from beatdesk.publishing.checks import LIMITS
    from beatdesk.publishing.threads import split_thread

    out = []
    for account in accounts:
        body = ((variants or {}).get(account.kind) or text).strip()
        try:
            parts = split_thread(body, account.kind) if thread else [body]
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        findings: list[Any] = []
        for number, part in enumerate(parts):
            findings += findings_for(part, [account], kind, force, media if number == 0 else ())
        unique = list(dict.fromkeys(findings))
        out.append(Variant(account, body, parts, unique, LIMITS.get(account.kind)))
    return out


def _check_media(media: Sequence[Image], accounts: list[NetworkAccount]) -> None:
    for number, image in enumerate(media, start=1):
        if not image.alt_text.strip():
            raise ValidationError(
                f"image {number} ({image.filename}) needs alt text: describe what it shows "
                "for people who use screen readers"
            )
        if not image.content_type.startswith("image/"):
            raise ValidationError(f"{image.filename} is not an image")
    if media:
        uploads = kinds("can_upload_media")
        without = sorted({a.kind for a in accounts} - set(uploads))
        if without:
            raise ValidationError(
                "the desk uploads images to "
                + " and ".join(network_label(k) for k in uploads)
                + " only; post to "
                + ", ".join(without)
                + " without images, as a separate post"
            )


def check_compose(
    user: User,
    *,
    text: str,
    kind: str,
    account_ids: list[int],
    send: str,  # "draft", "now" or "schedule"
    scheduled_for: dt.datetime | None = None,
    override_reason: str = "",
    review_on: dt.date | None = None,
    variants: dict[str, str] | None = None,
    thread: bool = False,
    media: Sequence[Image] = (),
) -> list[Post]:
    if not is_active_staff(user) or user.role not in WRITERS:
        refuse(user, "publishing.post", "new", "this role cannot publish")
    text = (text or "").strip()
    if not text:
        raise ValidationError("write the post first")
    if kind not in Post.Kind.values or kind == Post.Kind.REPLY:
        raise ValidationError("choose what kind of post this is")
    accounts = list(usable_accounts(user).filter(pk__in=account_ids))
    if not accounts or len(accounts) != len(set(account_ids)):
        raise ValidationError("choose one or more accounts you may post as")
    if send == "schedule" and (scheduled_for is None or scheduled_for <= now()):
        raise ValidationError("choose a time in the future to schedule it")
    if kind == Post.Kind.APPEAL and send != "draft" and review_on is None:
        raise ValidationError(
            "an appeal needs a review date: the desk is reminded then to update or withdraw it"
        )
    _check_media(media, accounts)
    force = user.force
    assert force is not None
    planned = variants_for(
        force, accounts, text=text, kind=kind, variants=variants, thread=thread, media=media
    )
    blocks = list(dict.fromkeys(f for v in planned for f in v.findings if f.severity == "block"))
    overrides: list[dict[str, str]] = []
    if blocks and send != "draft":
        if user.role not in OVERRIDERS:
            raise ValidationError(
                "these checks must be cleared or overridden by a supervisor: "
                + "; ".join(dict.fromkeys(f.message for f in blocks))
            )
        if not override_reason.strip():
            raise ValidationError(
                "say why you are overriding: " + "; ".join(dict.fromkeys(f.check for f in blocks))
            )
        overrides = [
            {"check": check, "by": str(user.pk), "reason": override_reason.strip()[:300]}
            for check in dict.fromkeys(f.check for f in blocks)
        ]
    from beatdesk.publishing.approvals import rules_for, save_version, steps_for

    rules = rules_for(force)
    group = uuid.uuid4().hex
    posts: list[Post] = []
    with transaction.atomic():
        for variant in planned:
            steps = steps_for(user, variant.account, kind, rules)
            if send == "draft":
                status = Post.Status.DRAFT
            elif steps:
                status = Post.Status.AWAITING_APPROVAL
            else:
                status = Post.Status.SCHEDULED
            previous = None
            for number, part in enumerate(variant.parts, start=1):
                post = Post.objects.create(
                    force=force,
                    account=variant.account,
                    author=user,
                    text=part,
                    kind=kind,
                    group=group,
                    status=status,
                    scheduled_for=scheduled_for if send == "schedule" else now(),
                    review_on=review_on,
                    overrides=overrides,
                    approval_steps=steps,
                    idempotency_key=uuid.uuid4().hex,
                    previous_part=previous,
                    part=number,
                    parts=len(variant.parts),
                )
                if number == 1:
                    for image in media:
                        PostMedia.objects.create(
                            post=post,
                            filename=image.filename[:200],
                            content_type=image.content_type[:100],
                            data=image.data,
                            alt_text=image.alt_text.strip(),
                        )
                record(user, Category.ALTERATION, "post.composed", post, justification=status)
                if overrides:
                    record(
                        user,
                        Category.ALTERATION,
                        "post.checks_overridden",
                        post,
                        justification=(
                            f"{', '.join(o['check'] for o in overrides)}: {override_reason}"
                        )[:500],
                    )
                previous = post
                posts.append(post)
        action = "submitted" if any(p.approval_steps for p in posts) and send != "draft" else send
        save_version(group, posts, "drafted" if send == "draft" else action, user)
    if send == "now":
        from beatdesk.publishing.tasks import send_due_posts

        transaction.on_commit(send_due_posts)
    return posts


def check_submit(user: User, group: str, override_reason: str = "") -> list[Post]:
    """Send a draft, or a post returned to its author, on its way again: checks first, then
    approval by policy (from the first step) or the schedule."""
    posts = [
        p
        for p in Post.objects.filter(force=user.force, group=group, author=user)
        .select_related("account")
        .order_by("account__kind", "part")
        if p.status in (Post.Status.DRAFT, Post.Status.RETURNED)
    ]
    if not posts:
        raise ValidationError("there is no draft of yours here to submit")
    force = user.force
    assert force is not None
    blocks = []
    for post in posts:
        blocks += [
            f
            for f in findings_for(post.text, [post.account], post.kind, force, post.media.all())
            if f.severity == "block"
        ]
    if blocks and not (user.role in OVERRIDERS and override_reason.strip()):
        raise ValidationError(
            "these checks must be cleared or overridden by a supervisor: "
            + "; ".join(dict.fromkeys(f.message for f in blocks))
        )
    if posts[0].kind == Post.Kind.APPEAL and posts[0].review_on is None:
        raise ValidationError("an appeal needs a review date before it is submitted")
    from beatdesk.publishing.approvals import rules_for, save_version, steps_for

    rules = rules_for(force)
    with transaction.atomic():
        for post in posts:
            steps = steps_for(user, post.account, post.kind, rules)
            post.approval_steps = steps
            post.approvals_done = 0
            post.status = Post.Status.AWAITING_APPROVAL if steps else Post.Status.SCHEDULED
            post.error = ""
            if post.scheduled_for is None or post.scheduled_for < now():
                post.scheduled_for = now()
            if blocks:
                post.overrides = [
                    {"check": check, "by": str(user.pk), "reason": override_reason.strip()[:300]}
                    for check in dict.fromkeys(f.check for f in blocks)
                ]
                record(
                    user,
                    Category.ALTERATION,
                    "post.checks_overridden",
                    post,
                    justification=override_reason[:500],
                )
            post.save(
                update_fields=[
                    "approval_steps",
                    "approvals_done",
                    "status",
                    "error",
                    "scheduled_for",
                    "overrides",
                ]
            )
            record(user, Category.ALTERATION, "post.submitted", post, justification=post.status)
        save_version(
            group,
            list(Post.objects.filter(group=group).select_related("account")),
            "submitted",
            user,
        )
        from beatdesk.publishing.tasks import send_due_posts

        transaction.on_commit(send_due_posts)
    return posts


def check_edit(user: User, post_id: int, text: str) -> Post:
    """The author changes a draft, returned or waiting post before it goes out (approval then
    starts again, and approvers see the change)."""
    post = (
        Post.objects.filter(pk=post_id, force=user.force, author=user)
        .select_related("account")
        .first()
    )
    editable = (Post.Status.DRAFT, Post.Status.RETURNED, Post.Status.AWAITING_APPROVAL)
    if post is None or post.status not in editable:
        raise ValidationError("only your own post that has not gone out can be changed here")
    text = (text or "").strip()
    if not text:
        raise ValidationError("the post needs some text")
    with transaction.atomic():
        status = Post.Status.DRAFT if post.status == Post.Status.AWAITING_APPROVAL else post.status
        Post.objects.filter(pk=post.pk).update(text=text, status=status, approvals_done=0)
        record(user, Category.ALTERATION, "post.edited", post, justification="before sending")
        from beatdesk.publishing.approvals import save_version

        save_version(
            post.group,
            list(Post.objects.filter(group=post.group).select_related("account")),
            "edited",
            user,
        )
    post.refresh_from_db()
    return post


def check_emergency_stop(user: User, paused: bool, reason: str = "") -> None:
    if not is_active_staff(user) or user.role not in OVERRIDERS:
        refuse(user, "accounts.force", user.force_id, "only supervisors use the emergency stop")
    force = user.force
    assert force is not None
    with transaction.atomic():
        force.publishing_paused = paused
        force.save(update_fields=["publishing_paused"])
        record(
            user,
            Category.ALTERATION,
            "publishing.paused" if paused else "publishing.resumed",
            force,
            justification=reason[:300],
        )
