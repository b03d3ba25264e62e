"""Writes of the triage step: read, route, alert; and staff corrections."""

from __future__ import annotations

import datetime as dt
import uuid
from functools import partial
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import Signal

from beatdesk.accounts.access import guard, refuse
from beatdesk.accounts.models import Area, Force, Role, Team
from beatdesk.accounts.policy import is_active_staff
from beatdesk.audit.actions import Category, id_range, record, record_system, record_system_each
from beatdesk.core.clock import now
from beatdesk.core.sql import insert_many, update_many
from beatdesk.inbox.models import Message, ResponseTarget
from beatdesk.inbox.queries import visible_messages
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import known
from beatdesk.publishing.models import Post
from beatdesk.stories.ingest import cluster_triaged
from beatdesk.triage import engine, routing
from beatdesk.triage.bundle import active_bundle
from beatdesk.triage.features import FeatureSet
from beatdesk.triage.models import Alert, ContactType, Grade, RoutingRule, Triage, TriageCorrection
from beatdesk.triage.profanity import AbuseStack, offensive_proba

if TYPE_CHECKING:
    from beatdesk.accounts.models import User
    from beatdesk.triage.forms import RoutingRuleForm

CORRECTING_ROLES = frozenset({Role.DESK_OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR})
RULE_EDITORS = frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR})

# Sent after the commit with `message_ids`, the fresh readings the fast abuse model was unsure
# of; triage.tasks (connected in TriageConfig.ready) hands them to the stronger model's queue.
abuse_unsure = Signal()


def _routing_context(
    force_id: int,
) -> tuple[list[routing.CompiledRule], list[routing.AreaMatcher], Team | None]:
    rules = list(
        RoutingRule.objects.filter(force_id=force_id, is_active=True)
        .select_related("team")
        .prefetch_related("areas", "accounts")
    )
    areas = list(Area.objects.filter(force_id=force_id).prefetch_related("teams"))
    desk = Team.objects.filter(force_id=force_id, kind=Team.Kind.DIGITAL_DESK).first()
    return routing.compile_rules(rules), routing.area_matchers(areas), desk


def _reports_emergencies(kind: str) -> bool:
    network = known(kind)
    return network is None or network.reports_emergencies


def do_triage(message_ids: list[int]) -> list[Triage]:
    """Read and route messages not yet triaged. Safe to run twice: done ones are skipped."""
    messages = list(
        Message.objects.filter(pk__in=message_ids, triage__isnull=True)
        .defer("raw", "attachments")  # the stored delivery is not read here
        .order_by("pk")
    )
    if not messages:
        return []
    # A batch comes from a handful of accounts: load each once, not once per message.
    accounts = NetworkAccount.objects.select_related("owning_team__area", "force").in_bulk(
        {m.account_id for m in messages}
    )
    for m in messages:
        m.account = accounts[m.account_id]
    readings = engine.read_many([m.text for m in messages])
    version = engine.model_version()
    contexts: dict[
        int, tuple[list[routing.CompiledRule], list[routing.AreaMatcher], Team | None]
    ] = {}
    at = now()

    targets = {
        (t.force_id, t.grade): t.minutes
        for t in ResponseTarget.objects.filter(force_id__in={m.account.force_id for m in messages})
    }
    triages, alerts, replies = [], [], []
    unsure: list[int] = []
    for message, reading in zip(messages, readings, strict=True):
        if reading.abuse_unsure:
            unsure.append(message.pk)
        if reading.grade == Grade.EMERGENCY and not _reports_emergencies(message.network):
            # A news or council feed reports events; it is not someone asking for help.
            reading.contact_type, reading.grade = "information", Grade.SCHEDULED
            reading.reasons = [*reading.reasons, "a news feed item, not a report to the police"]
        force_id = message.account.force_id
        if force_id not in contexts:
            contexts[force_id] = _routing_context(force_id)
        rules, matchers, desk = contexts[force_id]
        decision = routing.decide(
            message, reading.contact_type, reading.grade, rules, matchers, desk
        )
        message.team = decision.team
        message.area = decision.area
        message.routing_reason = decision.reason
        message.routed_at = at
        message.language = message.language or reading.language
        minutes = targets.get((force_id, reading.grade))
        message.due_at = (
            message.received_at + dt.timedelta(minutes=minutes) if minutes is not None else None
        )
        triages.append(
            Triage(
                message=message,
                contact_type=reading.contact_type,
                contact_confidence=round(reading.contact_confidence, 4),
                grade=reading.grade,
                reasons=reading.reasons,
                language=reading.language,
                abusive=reading.abusive,
                abuse_score=reading.abuse_score,
                personal_data=[[s.start, s.end, s.kind] for s in reading.personal_data],
                rumour_score=reading.rumour_score,
                relevance=reading.relevance,
                routing_rule=decision.rule,
                model_version=version,
                triaged_at=at,
            )
        )
        if reading.grade == Grade.EMERGENCY:
            alerts.append(Alert(force_id=force_id, message=message, raised_at=at))
            reply = _emergency_reply(message.account.force, message)
            if reply is not None:
                replies.append(reply)
    with transaction.atomic():
        # Another worker may have triaged some of these meanwhile (the sweeper re-queues what
        # waits too long): keep the first reading. The messages' rows are locked first, in
        # order, so two workers racing on one message store one reading (PostgreSQL; SQLite's
        # IMMEDIATE transactions already write one at a time).
        list(
            Message.objects.select_for_update(no_key=True)
            .filter(pk__in=[m.pk for m in messages])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        done = set(
            Triage.objects.filter(message_id__in=[m.pk for m in messages]).values_list(
                "message_id", flat=True
            )
        )
        fresh = [t for t in triages if t.message.pk not in done]
        if not fresh:
            return []
        fresh_ids = {t.message.pk for t in fresh}
        insert_many(Triage, fresh)
        update_many(
            Message,
            [m for m in messages if m.pk in fresh_ids],
            ["team", "area", "routing_reason", "routed_at", "language", "due_at"],
        )
        Alert.objects.bulk_create([a for a in alerts if a.message.pk in fresh_ids])
        Post.objects.bulk_create([p for p in replies if p.in_reply_to_id in fresh_ids])
        ids = sorted(fresh_ids)
        record_system(
            "triage",
            Category.ALTERATION,
            "messages.triaged",
            object_type="inbox.message",
            object_id=id_range(ids),
            justification=f"{len(ids)} message(s) read and routed",
            payload=[(t.message.pk, t.contact_type, t.grade, t.message.team_id) for t in fresh],
        )
        record_system_each(
            "triage",
            Category.ALTERATION,
            "alert.raised",
            [a.message for a in alerts if a.message.pk in fresh_ids],
            justification="grade 1 emergency",
        )
    cluster_triaged(fresh)  # stories; never raises, never holds up the messages
    reread = [pk for pk in unsure if pk in fresh_ids]
    if reread:
        transaction.on_commit(partial(abuse_unsure.send, sender=Triage, message_ids=reread))
    return fresh


def do_reread_abuse(message_ids: list[int]) -> list[Triage]:
    """The stronger model's reading of abuse for messages the fast one was unsure of.

    Safe to run twice (read ones are skipped); a staff correction is never overwritten.
    """
    triages = list(
        Triage.objects.filter(
            message_id__in=message_ids, abuse_reread_at__isnull=True, corrected=False
        )
        .select_related("message")
        .only(
            "pk", "message_id", "contact_type", "abusive", "abuse_score", "reasons", "message__text"
        )
        .order_by("message_id")
    )
    bundle = active_bundle()
    stack = AbuseStack.from_meta(bundle.meta.get("abuse_stack"))
    if not triages or stack is None or stack.encoder is None:
        return []
    p = offensive_proba(
        bundle.heads["abuse"], stack, FeatureSet([t.message.text for t in triages]), encoder="all"
    )
    at = now()
    changes = []
    for triage, score in zip(triages, p.tolist(), strict=True):
        before = triage.abusive
        triage.abuse_score = round(float(score), 4)
        triage.abusive = engine.is_abusive(score, triage.contact_type)
        triage.abuse_reread_at = at
        verdict = "abusive" if triage.abusive else "not abusive"
        triage.reasons = [
            *triage.reasons,
            f"abuse read again by the stronger model: {verdict} ({score:.0%})",
        ]
        changes.append((triage.message_id, before, triage.abusive, triage.abuse_score))
    with transaction.atomic():
        update_many(Triage, triages, ["abuse_score", "abusive", "abuse_reread_at", "reasons"])
        ids = [c[0] for c in changes]
        record_system(
            "triage",
            Category.ALTERATION,
            "messages.abuse_reread",
            object_type="inbox.message",
            object_id=id_range(ids),
            justification=f"{len(ids)} message(s) read again for abuse",
            payload=changes,
        )
    return triages


def _emergency_reply(force: Force, message: Message) -> Post | None:
    if force.emergency_reply == Force.EmergencyReply.OFF:
        return None
    author = message.author_handle if message.author_handle.startswith("@") else ""
    text = f"{author} {force.emergency_reply_text}".strip()
    # Sending needs the network connectors; until then a "send" force gets a draft too.
    return Post(
        force=force,
        account=message.account,
        author=None,
        text=text,
        in_reply_to=message,
        status=Post.Status.DRAFT,
        idempotency_key=f"999-reply-{message.pk}-{uuid.uuid4().hex[:8]}",
    )


def check_correct_triage(
    user: User, message_id: int, *, contact_type: str, grade: int
) -> TriageCorrection:
    if not is_active_staff(user) or user.role not in CORRECTING_ROLES:
        refuse(user, "inbox.message", message_id, "this role cannot correct triage")
    message = visible_messages(user).filter(pk=message_id).select_related("triage").first()
    if message is None:
        refuse(user, "inbox.message", message_id, "the message is outside the user's teams")
    if contact_type not in ContactType.values:
        raise ValidationError(f"unknown contact type {contact_type!r}")
    if grade not in Grade.values:
        raise ValidationError(f"grade must be 1 to 4, not {grade!r}")
    triage = getattr(message, "triage", None)
    if triage is None:
        raise ValidationError("this message has not been triaged yet")
    return do_correct_triage(user, triage, contact_type=contact_type, grade=grade)


def do_correct_triage(
    user: User, triage: Triage, *, contact_type: str, grade: int
) -> TriageCorrection:
    with transaction.atomic():
        correction = TriageCorrection.objects.create(
            message_id=triage.message_id,
            user=user,
            contact_type_before=triage.contact_type,
            contact_type=contact_type,
            grade_before=triage.grade,
            grade=grade,
        )
        triage.contact_type = contact_type
        triage.grade = grade
        triage.corrected = True
        triage.reasons = [*triage.reasons, f"corrected by {user.display_name}"]
        triage.save(update_fields=["contact_type", "grade", "corrected", "reasons"])
        record(
            user,
            Category.ALTERATION,
            "triage.corrected",
            triage.message,
            justification=(
                f"{correction.contact_type_before}/grade {correction.grade_before}"
                f" → {contact_type}/grade {grade}"
            ),
        )
    return correction


def check_acknowledge_alert(user: User, alert_id: int) -> Alert:
    mine = Alert.objects.filter(force_id=user.force_id or 0, message__in=visible_messages(user))
    guard(
        user,
        is_active_staff(user),
        mine,
        alert_id,
        object_type="triage.alert",
        refused="alerts are for staff",
        hidden="the alert is for another team's message",
    )
    alert = mine.select_related("message").get(pk=alert_id)
    if alert.acknowledged_at is None:
        with transaction.atomic():
            alert.acknowledged_by = user
            alert.acknowledged_at = now()
            alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
            record(user, Category.ALTERATION, "alert.acknowledged", alert.message)
    return alert


# -- routing rules -------------------------------------------------------------------------------


def _check_rule_editor(user: User, rule_id: object) -> None:
    if not is_active_staff(user) or user.role not in RULE_EDITORS:
        refuse(
            user, "triage.routingrule", rule_id, "only supervisors and administrators edit routing"
        )


def check_save_routing_rule(user: User, form: RoutingRuleForm) -> RoutingRule:
    """Save a routing rule from its (valid) form, for the editor's own force."""
    _check_rule_editor(user, form.instance.pk or "new")
    with transaction.atomic():
        rule = form.save(commit=False)
        rule.force = user.force  # type: ignore[assignment]
        rule.updated_by = user
        rule.save()
        form.save_m2m()
        record(
            user,
            Category.ALTERATION,
            "routing_rule.saved",
            rule,
            justification=rule.name,
            payload=form.cleaned_data
            | {
                "areas": [a.pk for a in form.cleaned_data["areas"]],
                "accounts": [a.pk for a in form.cleaned_data["accounts"]],
                "team": rule.team_id,
            },
        )
    return rule


def check_delete_routing_rule(user: User, instance: RoutingRule) -> None:
    _check_rule_editor(user, instance.pk)
    with transaction.atomic():
        record(
            user,
            Category.ERASURE,
            "routing_rule.deleted",
            instance,
            justification=instance.name,
        )
        instance.delete()
