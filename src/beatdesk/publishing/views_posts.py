"""Pages for posts after the composer: one written-once group with its outcome per network,
approvals, the rules, the month calendar and appeals due for review."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from beatdesk.accounts.access import guard
from beatdesk.accounts.models import Role, User
from beatdesk.networks.base import NetworkRefused, TransientError
from beatdesk.networks.models import NetworkAccount
from beatdesk.publishing import actions, approvals, compose, delivery, queries
from beatdesk.publishing.models import Post
from beatdesk.publishing.views import _reminders


@login_required
def post_group(request: HttpRequest, group: str) -> HttpResponse:
    """A post written once: each network's text, outcome and guarantee; checks, approval
    steps and the changes since the last version submitted or approved; replies received."""
    user: User = request.user  # type: ignore[assignment]
    posts = queries.access_post(user, group, purpose="post page")
    force = user.force
    checks = [
        (post, compose.findings_for(post.text, [post.account], post.kind, force, post.media.all()))
        for post in posts
    ]
    earlier, latest, diff = approvals.changes_since_review(group)
    head = posts[0]
    return render(
        request,
        "publishing/post.html",
        {
            "group": group,
            "head": head,
            "outcomes": queries.outcomes(posts),
            "checks": checks,
            "any_findings": any(found for _, found in checks),
            "versions": queries.versions_of(posts),
            "earlier": earlier,
            "latest": latest,
            "diff": diff,
            "can_approve": any(
                p.next_approver_role
                and approvals.may_approve(user.role, p.next_approver_role)
                and p.author_id != user.pk
                for p in posts
            ),
            "is_author": head.author_id == user.pk,
            "editable": [
                p
                for p in posts
                if p.author_id == user.pk
                and p.status
                in (Post.Status.DRAFT, Post.Status.RETURNED, Post.Status.AWAITING_APPROVAL)
            ],
            "can_submit": head.author_id == user.pk
            and any(p.status in (Post.Status.DRAFT, Post.Status.RETURNED) for p in posts),
            "can_override": user.role in compose.OVERRIDERS,
            "replies": queries.replies_to(user, posts).select_related("account"),
            "media": list(head.media.all()),
            "today": delivery.now().date(),
            **_reminders(user),
        },
    )


def _act(user: User, group: str, request: HttpRequest) -> str:
    """Run one action on a group (or one of its posts); what to tell the person."""
    action = request.POST.get("action", "")
    post_id = int(request.POST.get("post") or 0)
    if action == "approve":
        done = actions.check_approve(user, group)
        left = [p for p in done if p.status == Post.Status.AWAITING_APPROVAL]
        return "Approved: waiting for the next step." if left else "Approved: it is on its way."
    if action == "return":
        actions.check_return(user, group, request.POST.get("reason", ""))
        return "Sent back to the author with your reason."
    if action == "submit":
        posts = actions.check_submit(user, group, request.POST.get("override_reason", ""))
        waiting = any(p.status == Post.Status.AWAITING_APPROVAL for p in posts)
        return "Submitted for approval." if waiting else "On its way."
    if action == "edit":
        actions.check_edit(user, post_id, request.POST.get("text", ""))
        return "Changed. Submit it again when it is ready."
    if action in ("mark_sent", "resend"):
        actions.check_resolve(
            user, post_id, action == "mark_sent", request.POST.get("external_id", "")
        )
        return "Marked as sent." if action == "mark_sent" else "Sending it again."
    if action == "edit_published":
        actions.check_edit_published(user, post_id, request.POST.get("text", ""))
        return "Corrected on the network."
    if action == "delete_published":
        actions.check_delete_published(user, post_id, request.POST.get("reason", ""))
        return "Deleted from the network."
    if action == "review":
        raw = request.POST.get("review_on") or ""
        actions.check_review_appeal(
            user,
            group,
            review_on=dt.date.fromisoformat(raw) if raw else None,
            withdraw_reason=request.POST.get("withdraw_reason", ""),
        )
        return "Appeal reviewed."
    raise ValidationError("unknown action")


@login_required
@require_POST
def post_act(request: HttpRequest, group: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    guard(
        user,
        queries.may_read_posts(user),
        queries.visible_posts(user),
        group,
        key="group",
        object_type="publishing.post",
        refused="publishing is for the roles that write posts",
        hidden="the post is another team's draft",
    )
    try:
        messages.success(request, _act(user, group, request))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    except ValueError:
        messages.error(request, "that is not a date")
    except (TransientError, NetworkRefused) as exc:
        messages.error(request, f"The network did not do it: {exc}")
    return redirect("publishing:post", group)


@login_required
def approvals_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    queries.check_approvals_page(user)
    return render(
        request,
        "publishing/approvals.html",
        {"waiting": queries.awaiting(user), **_reminders(user)},
    )


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    """The approval rules, first match wins; supervisors and administrators change them."""
    user: User = request.user  # type: ignore[assignment]
    queries.check_publishing_page(user, "rules")
    if request.method == "POST":
        try:
            if request.POST.get("delete"):
                actions.check_delete_rule(user, int(request.POST["delete"]))
                messages.success(request, "Rule removed.")
            else:
                actions.check_add_rule(
                    user,
                    name=request.POST.get("name", ""),
                    author_role=request.POST.get("author_role", ""),
                    account_scope=request.POST.get("account_scope", ""),
                    post_kind=request.POST.get("post_kind", ""),
                    steps=[request.POST.get("step1", ""), request.POST.get("step2", "")],
                    position=int(request.POST.get("position") or 100),
                    account_id=int(request.POST.get("account") or 0) or None,
                )
                messages.success(request, "Rule added.")
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        except ValueError:
            messages.error(request, "the position must be a whole number")
        return redirect("publishing:rules")
    assert user.force is not None
    force_rules = approvals.rules_for(user.force)
    return render(
        request,
        "publishing/rules.html",
        {
            "rules": force_rules,
            "defaults": not force_rules or force_rules[0].pk is None,
            "can_edit": user.role in approvals.RULE_EDITORS,
            "roles": Role.choices,
            "approver_roles": [(r, Role(r).label) for r in sorted(approvals.APPROVERS)],
            "scopes": NetworkAccount.Scope.choices,
            "accounts": compose.usable_accounts(user),
            "kinds": Post.Kind.choices,
            **_reminders(user),
        },
    )


@login_required
def month(request: HttpRequest) -> HttpResponse:
    """The month's scheduled and published posts; ← and → move a month."""
    user: User = request.user  # type: ignore[assignment]
    queries.check_publishing_page(user, "month")
    today = delivery.now().date()
    try:
        year, number = (int(x) for x in request.GET.get("m", "").split("-"))
        first = dt.date(year, number, 1)
    except ValueError:
        first = today.replace(day=1)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    weeks = queries.month_grid(user, first.year, first.month)
    shown = [post for week in weeks for day in week for post in day.posts]
    queries.audit_post_list(user, shown, f"publishing month {first:%Y-%m}")
    return render(
        request,
        "publishing/month.html",
        {
            "first": first,
            "weeks": weeks,
            "empty": not any(day.posts for week in weeks for day in week if day.in_month),
            "previous": previous,
            "following": following,
            "today": today,
            **_reminders(user),
        },
    )


@login_required
def appeals(request: HttpRequest) -> HttpResponse:
    """Appeals whose review date has come: update (a new date) or withdraw each."""
    user: User = request.user  # type: ignore[assignment]
    queries.check_publishing_page(user, "appeals")
    due: dict[str, Any] = {}
    for post in queries.appeals_due(user):
        due.setdefault(post.group, post)
    queries.audit_post_list(user, list(due.values()), "appeals due for review")
    return render(
        request,
        "publishing/appeals.html",
        {"due": list(due.values()), "today": delivery.now().date(), **_reminders(user)},
    )
