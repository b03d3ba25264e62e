"""Approval by policy: who must approve a post before it goes out, step by step, each step
audited; a post sent back goes to its author with the reason; approvers see what changed
since the last version anyone submitted or approved."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from beatdesk.accounts.access import refuse
from beatdesk.accounts.models import Force, Role
from beatdesk.accounts.policy import is_active_staff
from beatdesk.audit.actions import Category, record
from beatdesk.core.clock import now
from beatdesk.networks.models import NetworkAccount
from beatdesk.publishing.models import ApprovalRule, Post, PostVersion

if TYPE_CHECKING:
    from beatdesk.accounts.models import User

APPROVERS = frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR})
RULE_EDITORS = APPROVERS


@dataclass(frozen=True)
class DefaultRule:
    name: str
    author_role: str
    account_scope: str
    post_kind: str
    steps: tuple[str, ...]


# Used until a force writes its own rules (the rules page starts from these).
DEFAULT_RULES = (
    DefaultRule(
        "A result by an officer or PCSO: a supervisor, then an administrator (corporate comms)",
        Role.OFFICER,
        "",
        Post.Kind.RESULT,
        (Role.SUPERVISOR, Role.ADMINISTRATOR),
    ),
    DefaultRule(
        "A result by the desk: a supervisor",
        Role.DESK_OPERATOR,
        "",
        Post.Kind.RESULT,
        ("supervisor",),
    ),
    DefaultRule(
        "An officer or PCSO on the force account: a supervisor",
        Role.OFFICER,
        NetworkAccount.Scope.FORCE,
        "",
        (Role.SUPERVISOR,),
    ),
)


def rules_for(force: Force) -> list[ApprovalRule]:
    """The force's rules in order; the defaults (unsaved) while it has none of its own."""
    saved = list(ApprovalRule.objects.filter(force=force).select_related("account"))
    if saved:
        return saved
    return [
        ApprovalRule(
            force=force,
            position=(number + 1) * 10,
            name=rule.name,
            author_role=rule.author_role,
            account_scope=rule.account_scope,
            post_kind=rule.post_kind,
            steps=list(rule.steps),
        )
        for number, rule in enumerate(DEFAULT_RULES)
    ]


def _matches(rule: ApprovalRule, role: str, account: NetworkAccount, kind: str) -> bool:
    return (
        (not rule.author_role or rule.author_role == role)
        and (rule.account_id is None or rule.account_id == account.pk)
        and (not rule.account_scope or rule.account_scope == account.scope)
        and (not rule.post_kind or rule.post_kind == kind)
    )


def steps_for(
    user: User, account: NetworkAccount, kind: str, rules: list[ApprovalRule] | None = None
) -> list[str]:
    """The approver roles, in order, for this author posting this kind on this account."""
    for rule in rules if rules is not None else rules_for(account.force):
        if _matches(rule, user.role, account, kind):
            return [str(step) for step in rule.steps]
    return []


def may_approve(role: str, step: str) -> bool:
    """An administrator may take any step; otherwise the step's own role."""
    return role == step or role == Role.ADMINISTRATOR


# --- versions -------------------------------------------------------------------------------


def texts_of(posts: list[Post]) -> dict[str, str]:
    """Account -> what goes out there (a thread's parts one after another)."""
    texts: dict[str, list[str]] = {}
    for post in sorted(posts, key=lambda p: (p.account.kind, p.account.handle, p.part)):
        texts.setdefault(f"{post.account.get_kind_display()} {post.account.handle}", []).append(
            post.text
        )
    return {label: "\n\n".join(parts) for label, parts in texts.items()}


def save_version(
    group: str, posts: list[Post], action: str, by: User | None, note: str = ""
) -> None:
    last = PostVersion.objects.filter(group=group).aggregate(n=Max("number"))["n"] or 0
    PostVersion.objects.create(
        group=group, number=last + 1, texts=texts_of(posts), action=action, by=by, note=note[:500]
    )


def changes_since_review(group: str) -> tuple[PostVersion | None, PostVersion | None, str]:
    """(earlier, latest, HTML diff): the latest version against the one before it that was
    submitted or approved; no diff when there is only one."""
    versions = list(PostVersion.objects.filter(group=group).select_related("by"))
    if not versions:
        return None, None, ""
    latest = versions[-1]
    earlier = next(
        (v for v in reversed(versions[:-1]) if v.action in ("submitted", "approved")), None
    )
    if earlier is None or earlier.texts == latest.texts:
        return earlier, latest, ""
    differ = difflib.HtmlDiff(wrapcolumn=70)
    tables = []
    for label in sorted(set(earlier.texts) | set(latest.texts)):
        before = earlier.texts.get(label, "").splitlines()
        after = latest.texts.get(label, "").splitlines()
        if before != after:
            table = differ.make_table(
                before, after, f"v{earlier.number} ({earlier.action})", f"v{latest.number}"
            )
            tables.append(f"<h3>{_escape(label)}</h3>{table}")
    return earlier, latest, "".join(tables)


def _escape(text: str) -> str:
    from django.utils.html import escape

    return str(escape(text))


# --- approving and returning ----------------------------------------------------------------


def group_posts(user: User, group: str) -> list[Post]:
    return list(
        Post.objects.filter(force=user.force, group=group)
        .select_related("account", "author", "previous_part")
        .order_by("account__kind", "account__handle", "part")
    )


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
        from beatdesk.publishing.tasks import send_due_posts

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


# --- rules ----------------------------------------------------------------------------------


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
