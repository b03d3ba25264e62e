"""The composer: write once for several accounts, check before anything goes out, approve,
schedule or send; and the emergency stop."""

from __future__ import annotations

import datetime as dt
import uuid
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
from beatdesk.networks.registry import UnknownNetwork, connector
from beatdesk.publishing.models import Post

if TYPE_CHECKING:
    from beatdesk.accounts.models import User

OVERRIDERS = frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR})
WRITERS = frozenset({Role.OFFICER, Role.DESK_OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR})


def usable_accounts(user: User) -> QuerySet[NetworkAccount]:
    """The accounts this person may post as: their own, their teams', and (desk roles, or
    officers subject to approval) the force's."""
    if not is_active_staff(user) or user.role not in WRITERS:
        return NetworkAccount.objects.none()
    publishable = [k for k in ("mastodon", "bluesky", "x", "facebook") if _can_publish(k)]
    mine = NetworkAccount.objects.filter(force=user.force, is_active=True, kind__in=publishable)
    if user.role == Role.OFFICER:
        return mine.filter(
            Q(owner=user) | Q(owning_team__in=user.teams.all()) | Q(scope="force")
        ).distinct()
    return mine


def _can_publish(kind: str) -> bool:
    try:
        return connector(kind).can_publish
    except UnknownNetwork:
        return False


def needs_approval(user: User, account: NetworkAccount) -> bool:
    return user.role == Role.OFFICER and account.scope == NetworkAccount.Scope.FORCE


def findings_for(text: str, accounts: list[NetworkAccount], kind: str, force: Any) -> list[Any]:
    from beatdesk.publishing.checks import run_checks

    return run_checks(
        text,
        networks=sorted({a.kind for a in accounts}),
        charged_names=[n.strip() for n in (force.charged_names or "").splitlines() if n.strip()],
        banned_words=[w.strip() for w in (force.banned_words or "").splitlines() if w.strip()],
        post_type=kind,
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
    findings = findings_for(text, accounts, kind, user.force)
    blocks = [f for f in findings if f.severity == "block"]
    overrides: list[dict[str, str]] = []
    if blocks and send != "draft":
        if user.role not in OVERRIDERS:
            raise ValidationError(
                "these checks must be cleared or overridden by a supervisor: "
                + "; ".join(f.message for f in blocks)
            )
        if not override_reason.strip():
            raise ValidationError(
                "say why you are overriding: " + "; ".join(f.check for f in blocks)
            )
        overrides = [
            {"check": f.check, "by": str(user.pk), "reason": override_reason.strip()[:300]}
            for f in blocks
        ]
    group = uuid.uuid4().hex
    force = user.force
    assert force is not None
    posts = []
    with transaction.atomic():
        for account in accounts:
            if send == "draft":
                status = Post.Status.DRAFT
            elif needs_approval(user, account):
                status = Post.Status.AWAITING_APPROVAL
            else:
                status = Post.Status.SCHEDULED
            post = Post.objects.create(
                force=force,
                account=account,
                author=user,
                text=text,
                kind=kind,
                group=group,
                status=status,
                scheduled_for=scheduled_for if send == "schedule" else now(),
                review_on=review_on,
                overrides=overrides,
                idempotency_key=uuid.uuid4().hex,
            )
            record(user, Category.ALTERATION, "post.composed", post, justification=status)
            if overrides:
                record(
                    user,
                    Category.ALTERATION,
                    "post.checks_overridden",
                    post,
                    justification=f"{', '.join(o['check'] for o in overrides)}: {override_reason}"[
                        :500
                    ],
                )
            posts.append(post)
    if send == "now":
        from beatdesk.publishing.tasks import send_due_posts

        transaction.on_commit(send_due_posts)
    return posts


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
