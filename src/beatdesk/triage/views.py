"""The desk's triage pages: the alert bar, corrections, routing rules."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from beatdesk.accounts.access import check_visible, guard, refuse
from beatdesk.accounts.models import User
from beatdesk.accounts.policy import is_active_staff, reads_force_wide
from beatdesk.audit.actions import Category, record
from beatdesk.inbox.queries import queue, visible_messages
from beatdesk.triage.actions import (
    CORRECTING_ROLES,
    RULE_EDITORS,
    check_acknowledge_alert,
    check_correct_triage,
    check_delete_routing_rule,
    check_save_routing_rule,
)
from beatdesk.triage.forms import CorrectionForm, RoutingRuleForm
from beatdesk.triage.models import Alert
from beatdesk.triage.queries import open_alerts, rules_for


@login_required
def alerts(request: HttpRequest) -> HttpResponse:
    """The bar at the top of every page: grade-1 messages nobody has acknowledged yet."""
    user: User = request.user  # type: ignore[assignment]
    if not is_active_staff(user):
        refuse(user, "triage.alert", "*", "alerts are for staff")
    alerts_open = open_alerts(user)
    found = list(alerts_open[:2])
    more = max(alerts_open.count() - len(found), 0)
    _audit_alerts_shown(request, user, found)
    missed = 0
    if user.role in ("supervisor", "administrator"):
        missed = queue(user, "breached").count()
    return render(request, "triage/_alerts.html", {"alerts": found, "more": more, "missed": missed})


def _audit_alerts_shown(request: HttpRequest, user: User, shown: list[Alert]) -> None:
    """The bar shows a grade-1 message's text: a consultation, as on the message page. It
    polls every few seconds, so each message is recorded once per session, when it first
    shows, not at every poll."""
    already = set(request.session.get("beatdesk_alerts_audited", []))
    fresh = [alert.message for alert in shown if alert.message_id not in already]
    if not fresh:
        return
    with transaction.atomic():
        for message in fresh:
            record(
                user,
                Category.CONSULTATION,
                "message.view",
                message,
                justification="shown in the emergency alert bar",
            )
    # The newest few hundred are enough: an alert that old is long acknowledged.
    request.session["beatdesk_alerts_audited"] = [*already, *(m.pk for m in fresh)][-300:]


@login_required
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    alert = check_acknowledge_alert(user, pk)
    if request.headers.get("HX-Request"):
        return alerts(request)
    return redirect("inbox:message", alert.message_id)


@login_required
@require_POST
def correct(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    guard(
        user,
        is_active_staff(user) and user.role in CORRECTING_ROLES,
        visible_messages(user),
        pk,
        object_type="inbox.message",
        refused="this role cannot correct triage",
        hidden="the message is outside the user's teams",
    )
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a contact type and a grade from the lists.")
        return redirect("inbox:message", pk)
    try:
        check_correct_triage(
            user,
            pk,
            contact_type=form.cleaned_data["contact_type"],
            grade=form.cleaned_data["grade"],
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, "Thank you: the correction is saved and will teach the model.")
    return redirect("inbox:message", pk)


def _rule_editor(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not is_active_staff(user) or user.role not in RULE_EDITORS:
        refuse(user, "triage.routingrule", "*", "only supervisors and administrators edit routing")
    return user


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not reads_force_wide(user):
        refuse(user, "triage.routingrule", "*", "routing is for the force-wide roles")
    return render(
        request,
        "triage/rules.html",
        {"rules": rules_for(user), "can_edit": user.role in RULE_EDITORS},
    )


@login_required
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = _rule_editor(request)
    if pk:
        check_visible(
            user,
            rules_for(user),
            pk,
            object_type="triage.routingrule",
            hidden="the routing rule is another force's",
        )
    instance = rules_for(user).get(pk=pk) if pk else None
    form = RoutingRuleForm(request.POST or None, instance=instance, force=user.force)  # type: ignore[arg-type]
    if request.method == "POST" and "delete" in request.POST and instance is not None:
        check_delete_routing_rule(user, instance)
        messages.success(request, f"Rule '{instance.name}' deleted.")
        return redirect("triage:rules")
    if request.method == "POST" and form.is_valid():
        rule = check_save_routing_rule(user, form)
        messages.success(request, f"Rule '{rule.name}' saved. New messages follow it at once.")
        return redirect("triage:rules")
    return render(request, "triage/rule_form.html", {"form": form, "rule": instance})
