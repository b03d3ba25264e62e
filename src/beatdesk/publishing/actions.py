"""Changing publishing: every write of a post, a version, a rule or the emergency stop.

check_* authorises and validates, then writes and records the audit event; do_* writes for a
caller that has already checked (the scheduler). Reads go through publishing/queries.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q

from beatdesk.accounts.access import check_visible, refuse
from beatdesk.accounts.models import Role
from beatdesk.accounts.policy import MESSAGE_WRITERS, is_active_staff
from beatdesk.audit.actions import Category, record, record_system
from beatdesk.core.clock import now
from beatdesk.inbox.queries import visible_messages
from beatdesk.inbox.work import acknowledge
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import connector, kinds, network_label
from beatdesk.publishing.approvals import (
    APPROVERS,
    RULE_EDITORS,
    may_approve,
    rules_for,
    steps_for,
    texts_of,
)
from beatdesk.publishing.checks import LIMITS, count_characters
from beatdesk.publishing.compose import (
    OVERRIDERS,
    WRITERS,
    Image,
    findings_for,
    needs_approval,
    usable_accounts,
    variants_for,
)
from beatdesk.publishing.delivery import (
    REMOVERS,
    SENDERS,
)
from beatdesk.publishing.models import ApprovalRule, Post, PostMedia, PostVersion
from beatdesk.publishing.queries import group_posts, visible_posts
from beatdesk.publishing.tasks import send_due_posts, send_post

if TYPE_CHECKING:
    from beatdesk.accounts.models import User


# --- versions ----------------------------------------------------------------------------


def save_version(
    group: str, posts: list[Post], action: str, by: User | None, note: str = ""
) -> None:
    last = PostVersion.objects.filter(group=group).aggregate(n=Max("number"))["n"] or 0
    PostVersion.objects.create(
        group=group, number=last + 1, texts=texts_of(posts), action=action, by=by, note=note[:500]
    )


# --- composing ---------------------------------------------------------------------------


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


# --- approving and returning -------------------------------------------------------------


def check_approve(user: User, group: str) -> list[Post]:
    """Take the next step of approval for every post of the group waiting for this role."""
    if not is_active_staff(user) or user.role not in APPROVERS:
        refuse(user, "publishing.post", group, "only supervisors and administrators approve")
    posts = group_posts(user, group)
    waiting = [
        p for p in posts if p.next_approver_role and may_approve(user.role, p.next_approver_role)
    ]
    if not waiting:
        raise ValidationError("nothing here is waiting for your approval")
    if any(p.author_id == user.pk for p in waiting):
        raise ValidationError("someone else must approve your own post")
    with transaction.atomic():
        for post in waiting:
            step = post.next_approver_role
            post.approvals_done += 1
            done = post.approvals_done >= len(post.approval_steps)
            fields = ["approvals_done"]
            if done:
                post.status = Post.Status.SCHEDULED
                if post.scheduled_for is None or post.scheduled_for < now():
                    post.scheduled_for = now()
                fields += ["status", "scheduled_for"]
            post.save(update_fields=fields)
            record(
                user,
                Category.ALTERATION,
                "post.approved",
                post,
                justification=f"step {post.approvals_done} of {len(post.approval_steps)} ({step})",
            )
        save_version(group, posts, "approved", user)
        transaction.on_commit(send_due_posts)
    return waiting


def check_return(user: User, group: str, reason: str) -> list[Post]:
    """Send the posts back to their author with a reason; approval starts again."""
    if not is_active_staff(user) or user.role not in APPROVERS:
        refuse(user, "publishing.post", group, "only supervisors and administrators approve")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("say why you are sending it back, so the author can fix it")
    posts = group_posts(user, group)
    waiting = [p for p in posts if p.status == Post.Status.AWAITING_APPROVAL]
    if not waiting:
        raise ValidationError("nothing here is waiting for approval")
    with transaction.atomic():
        for post in waiting:
            Post.objects.filter(pk=post.pk).update(
                status=Post.Status.RETURNED, approvals_done=0, error=reason[:500]
            )
            record(user, Category.ALTERATION, "post.returned", post, justification=reason[:300])
        save_version(group, posts, "returned", user, reason)
    return waiting


# --- approval rules ----------------------------------------------------------------------


def check_add_rule(
    user: User,
    *,
    name: str,
    author_role: str,
    account_scope: str,
    post_kind: str,
    steps: list[str],
    position: int,
    account_id: int | None = None,
) -> ApprovalRule:
    if not is_active_staff(user) or user.role not in RULE_EDITORS:
        refuse(user, "publishing.approvalrule", "new", "only supervisors and administrators")
    steps = [s for s in steps if s]
    if not name.strip():
        raise ValidationError("give the rule a name people will understand")
    if not steps or any(s not in APPROVERS for s in steps):
        raise ValidationError("choose one or more approver roles (supervisor, administrator)")
    if author_role and author_role not in Role.values:
        raise ValidationError("unknown author role")
    if account_scope and account_scope not in NetworkAccount.Scope.values:
        raise ValidationError("unknown account scope")
    if post_kind and post_kind not in Post.Kind.values:
        raise ValidationError("unknown kind of post")
    force = user.force
    assert force is not None
    account = None
    if account_id:
        account = NetworkAccount.objects.filter(force=force, pk=account_id).first()
        if account is None:
            raise ValidationError("no such account in this force")
    with transaction.atomic():
        if not ApprovalRule.objects.filter(force=force).exists():
            for rule in rules_for(force):  # the defaults become the force's own first
                rule.save()
        rule = ApprovalRule.objects.create(
            force=force,
            name=name.strip()[:200],
            author_role=author_role,
            account_scope=account_scope,
            post_kind=post_kind,
            steps=steps,
            position=position,
            account=account,
        )
        record(user, Category.ALTERATION, "approval_rule.added", rule, justification=rule.name)
    return rule


def check_delete_rule(user: User, rule_id: int) -> None:
    if not is_active_staff(user) or user.role not in RULE_EDITORS:
        refuse(user, "publishing.approvalrule", rule_id, "only supervisors and administrators")
    rule = ApprovalRule.objects.filter(force=user.force, pk=rule_id).first()
    if rule is None:
        raise ValidationError("no such rule")
    with transaction.atomic():
        record(user, Category.ALTERATION, "approval_rule.deleted", rule, justification=rule.name)
        rule.delete()


# --- replies from the message page -------------------------------------------------------


def check_reply(user: User, message_id: int, text: str) -> Post:
    if not is_active_staff(user) or user.role not in MESSAGE_WRITERS:
        refuse(user, "inbox.message", message_id, "this role cannot reply")
    check_visible(
        user,
        visible_messages(user),
        message_id,
        object_type="inbox.message",
        hidden="the message is outside the user's teams",
    )
    message = visible_messages(user).select_related("account__force").get(pk=message_id)
    text = (text or "").strip()
    if not text:
        raise ValidationError("write the reply first")
    limit = LIMITS.get(message.account.kind)
    length = count_characters(text, message.account.kind)
    if limit is not None and length > limit:
        raise ValidationError(
            f"{length} characters: {message.account.get_kind_display()} allows {limit}"
        )
    status = (
        Post.Status.AWAITING_APPROVAL
        if needs_approval(user, message.account)
        else Post.Status.SCHEDULED
    )
    with transaction.atomic():
        post = Post.objects.create(
            force=message.account.force,
            account=message.account,
            author=user,
            text=text,
            in_reply_to=message,
            status=status,
            idempotency_key=uuid.uuid4().hex,
        )
        record(user, Category.ALTERATION, "reply.written", post, justification=status)
        acknowledge(message)
        if status == Post.Status.SCHEDULED:
            transaction.on_commit(lambda: _send_later(post.pk))
    return post


def _check_post(user: User, post_id: int) -> None:
    check_visible(
        user,
        visible_posts(user),
        post_id,
        object_type="publishing.post",
        hidden="the post is another team's or another force's",
    )


def check_approve_reply(user: User, post_id: int) -> Post:
    if user.role not in (Role.SUPERVISOR, Role.ADMINISTRATOR) or not is_active_staff(user):
        refuse(user, "publishing.post", post_id, "only supervisors approve replies")
    _check_post(user, post_id)
    post = Post.objects.filter(pk=post_id, force=user.force).first()
    if post is None or post.status != Post.Status.AWAITING_APPROVAL:
        raise ValidationError("there is no reply awaiting approval here")
    with transaction.atomic():
        Post.objects.filter(pk=post.pk).update(status=Post.Status.SCHEDULED)
        record(user, Category.ALTERATION, "reply.approved", post)
        transaction.on_commit(lambda: _send_later(post.pk))
    post.refresh_from_db()
    return post


def check_retry_reply(user: User, post_id: int) -> Post:
    if not is_active_staff(user) or user.role not in MESSAGE_WRITERS:
        refuse(user, "publishing.post", post_id, "this role cannot send")
    _check_post(user, post_id)
    post = Post.objects.filter(pk=post_id, force=user.force, status=Post.Status.FAILED).first()
    if post is None:
        raise ValidationError("only a failed reply can be tried again")
    with transaction.atomic():
        record(user, Category.ALTERATION, "reply.retried", post)
        transaction.on_commit(lambda: _send_later(post.pk))
    return post


def _send_later(post_id: int) -> None:
    send_post.enqueue(post_id)


# --- a person settles a post nobody can be sure of ---------------------------------------


def check_resolve(user: User, post_id: int, on_network: bool, external_id: str = "") -> Post:
    """After checking the network: it is there (mark sent), or it is not (send it)."""
    if not is_active_staff(user) or user.role not in SENDERS:
        refuse(user, "publishing.post", post_id, "this role cannot send")
    post = Post.objects.filter(pk=post_id, force=user.force, status=Post.Status.CHECK).first()
    if post is None:
        raise ValidationError("only a post waiting to be checked can be settled here")
    with transaction.atomic():
        if on_network:
            Post.objects.filter(pk=post.pk).update(
                status=Post.Status.SENT, sent_at=now(), external_id=external_id.strip()[:200]
            )
            record(user, Category.ALTERATION, "post.confirmed_sent", post)
        else:
            Post.objects.filter(pk=post.pk).update(status=Post.Status.SCHEDULED, error="")
            record(user, Category.ALTERATION, "post.resend_after_check", post)
            pk = post.pk
            transaction.on_commit(lambda: send_post.enqueue(pk))
    post.refresh_from_db()
    return post


# --- edit and delete on the network ------------------------------------------------------


def _published(user: User, post_id: int, roles: frozenset[str]) -> Post:
    if not is_active_staff(user) or user.role not in roles:
        refuse(user, "publishing.post", post_id, "this role cannot change published posts")
    post = (
        Post.objects.filter(pk=post_id, force=user.force, status=Post.Status.SENT)
        .select_related("account", "force")
        .first()
    )
    if post is None or not post.external_id:
        raise ValidationError("only a published post can be changed on the network")
    if user.role == Role.OFFICER and post.author_id != user.pk:
        refuse(user, "publishing.post", post_id, "officers change only their own posts")
    return post


def check_edit_published(user: User, post_id: int, text: str) -> Post:
    """Correct a published post where the network allows it (Network.can_edit), checks first."""
    post = _published(user, post_id, SENDERS)
    network = connector(post.account.kind)
    if not network.can_edit:
        raise ValidationError(
            f"{network.name} does not let a post be edited: delete it and post a correction"
        )
    text = (text or "").strip()
    blocks = [
        f
        for f in findings_for(text, [post.account], post.kind, post.force)
        if f.severity == "block"
    ]
    if not text or blocks:
        raise ValidationError(
            "the correction needs text and must pass the checks: "
            + "; ".join(f.message for f in blocks)
        )
    network.edit(post.account, post.external_id, text)
    with transaction.atomic():
        Post.objects.filter(pk=post.pk).update(text=text)
        record(
            user,
            Category.DISCLOSURE,
            "post.edited_on_network",
            post,
            recipient=f"{post.account.kind}:{post.account.handle} (public)",
            payload=text,
        )
    post.refresh_from_db()
    return post


def check_delete_published(user: User, post_id: int, reason: str) -> Post:
    """Delete a published post from its network (Network.can_delete), with a reason."""
    post = _published(user, post_id, REMOVERS | {Role.OFFICER})
    if not (reason or "").strip():
        raise ValidationError("say why the post is being deleted")
    network = connector(post.account.kind)
    if not network.can_delete:
        raise ValidationError(
            f"{network.name} posts are removed on the network itself, not from the desk"
        )
    network.delete(post.account, post.external_id)
    with transaction.atomic():
        Post.objects.filter(pk=post.pk).update(status=Post.Status.DELETED, withdrawn_at=now())
        record(user, Category.ERASURE, "post.deleted_on_network", post, justification=reason[:300])
    post.refresh_from_db()
    return post


# --- appeals due for review --------------------------------------------------------------


def do_remind_due_appeals() -> int:
    """Remind the desk, once a day, of every appeal whose review date has come (run by poll)."""
    today = now().date()
    due = Post.objects.filter(
        kind=Post.Kind.APPEAL,
        review_on__lte=today,
        withdrawn_at__isnull=True,
        part=1,
        status=Post.Status.SENT,
    ).filter(Q(reminded_on__isnull=True) | Q(reminded_on__lt=today))
    reminded = 0
    for post in due:
        with transaction.atomic():
            if (
                Post.objects.filter(pk=post.pk)
                .filter(Q(reminded_on__isnull=True) | Q(reminded_on__lt=today))
                .update(reminded_on=today)
            ):
                record_system(
                    "publishing",
                    Category.ALTERATION,
                    "appeal.review_due",
                    post,
                    justification=f"review date {post.review_on}: update or withdraw",
                )
                reminded += 1
    return reminded


def check_review_appeal(
    user: User, group: str, *, review_on: dt.date | None, withdraw_reason: str = ""
) -> list[Post]:
    """Keep an appeal running to a new review date, or withdraw it (deleted from every network
    that allows it; the others are listed for the desk to remove by hand)."""
    if not is_active_staff(user) or user.role not in REMOVERS | {Role.OFFICER}:
        refuse(user, "publishing.post", group, "this role cannot review appeals")
    posts = list(
        Post.objects.filter(force=user.force, group=group, kind=Post.Kind.APPEAL).select_related(
            "account"
        )
    )
    if not posts:
        raise ValidationError("no such appeal")
    if user.role == Role.OFFICER and posts[0].author_id != user.pk:
        refuse(user, "publishing.post", group, "officers review only their own appeals")
    if withdraw_reason.strip():
        for post in posts:
            if post.status == Post.Status.SENT and connector(post.account.kind).can_delete:
                check_delete_published(user, post.pk, f"appeal withdrawn: {withdraw_reason}")
        with transaction.atomic():
            Post.objects.filter(group=group, withdrawn_at__isnull=True).update(withdrawn_at=now())
            Post.objects.filter(
                group=group, status__in=(Post.Status.SCHEDULED, Post.Status.AWAITING_APPROVAL)
            ).update(status=Post.Status.DRAFT)
            record(
                user,
                Category.ALTERATION,
                "appeal.withdrawn",
                posts[0],
                justification=withdraw_reason[:300],
            )
        return posts
    if review_on is None or review_on <= now().date():
        raise ValidationError("choose a new review date in the future, or withdraw the appeal")
    with transaction.atomic():
        Post.objects.filter(group=group).update(review_on=review_on)
        record(
            user,
            Category.ALTERATION,
            "appeal.reviewed",
            posts[0],
            justification=f"kept running; next review {review_on}",
        )
    return posts
