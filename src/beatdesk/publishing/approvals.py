"""Approval by policy: who must approve a post before it goes out, step by step, each step
audited; a post sent back goes to its author with the reason; approvers see what changed
since the last version anyone submitted or approved."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from beatdesk.accounts.models import Force, Role
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
