"""A watch needs a purpose, an owner and an expiry; never follows a person; waits for a
supervisor's approval. Shown through the form, the model, the action and the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from beatdesk.accounts.access import AccessRefused
from beatdesk.accounts.models import User
from beatdesk.audit.models import AuditEvent
from beatdesk.core.clock import now
from beatdesk.monitoring import actions
from beatdesk.monitoring.models import Operation, Watch
from beatdesk.monitoring.rules import MAX_WATCH_DAYS, person_reason

pytestmark = pytest.mark.django_db


def fields(operation: Operation, owner: User | None, **changes: Any) -> actions.WatchFields:
    at = now()
    values: dict[str, Any] = {
        "operation": operation,
        "name": "Carnival hashtag",
        "network": "replay",
        "kind": "hashtag",
        "query": "#WestmereCarnival",
        "purpose": "Crowd safety at the carnival",
        "owner": owner,
        "starts_at": at,
        "expires_at": at + dt.timedelta(days=3),
    }
    values.update(changes)
    return actions.WatchFields(**values)


def form_data(**changes: str) -> dict[str, str]:
    at = now().astimezone(dt.timezone(dt.timedelta(0)))
    data = {
        "name": "Carnival hashtag",
        "network": "replay",
        "kind": "hashtag",
        "query": "#WestmereCarnival",
        "purpose": "Crowd safety at the carnival",
        "owner": "",
        "starts_at": at.strftime("%Y-%m-%dT%H:%M"),
        "expires_at": (at + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("missing", ["purpose", "owner", "expires_at"])
def test_the_form_will_not_save_a_watch_without_purpose_owner_or_expiry(
    operation: Operation, users: dict[str, User], client_for: Callable[[str], Client], missing: str
) -> None:
    data = form_data(owner=str(users["dana.desk"].pk))
    data[missing] = ""
    response = client_for("dana.desk").post(
        f"/monitoring/operations/{operation.pk}/watches/new/", data
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert missing in errors
    assert not operation.watches.exists()


def test_the_model_refuses_the_same_and_the_database_too(
    operation: Operation, users: dict[str, User]
) -> None:
    at = now()
    watch = Watch(
        operation=operation,
        name="w",
        network="replay",
        kind="hashtag",
        query="#Carnival",
        purpose="",
        owner=users["dana.desk"],
        created_by=users["dana.desk"],
        starts_at=at,
        expires_at=at + dt.timedelta(days=MAX_WATCH_DAYS + 1),
    )
    with pytest.raises(ValidationError) as raised:
        watch.full_clean()
    assert {"purpose", "expires_at"} <= set(raised.value.message_dict)
    watch.expires_at = at - dt.timedelta(hours=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        watch.save()  # no purpose, expiry before start: the database says no as well


def test_the_action_refuses_a_missing_owner_and_an_expiry_past_the_maximum(
    operation: Operation, users: dict[str, User]
) -> None:
    with pytest.raises(ValidationError) as raised:
        actions.check_propose_watch(users["dana.desk"], fields(operation, None))
    assert "owner" in raised.value.message_dict
    too_long = now() + dt.timedelta(days=MAX_WATCH_DAYS + 1)
    operation.retention_until = too_long + dt.timedelta(days=30)
    operation.save()
    with pytest.raises(ValidationError) as raised:
        actions.check_propose_watch(
            users["dana.desk"], fields(operation, users["dana.desk"], expires_at=too_long)
        )
    assert f"at most {MAX_WATCH_DAYS} days" in raised.value.message_dict["expires_at"][0]


def test_an_expiry_past_the_operations_retention_is_refused(
    operation: Operation, users: dict[str, User]
) -> None:
    late = operation.retention_until + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as raised:
        actions.check_propose_watch(
            users["dana.desk"],
            fields(
                operation,
                users["dana.desk"],
                starts_at=late - dt.timedelta(days=5),
                expires_at=late,
            ),
        )
    assert "retention" in raised.value.message_dict["expires_at"][0]


@pytest.mark.parametrize(
    "kind,query",
    [
        ("keyword", "@carnivalfan"),
        ("keyword", "from:carnivalfan carnival"),
        ("keyword", "did:plc:z72i7hdynmk6r22z27h6tvur"),
        ("keyword", "https://x.com/carnivalfan"),
        ("keyword", "carnivalfan.bsky.social"),
        ("phrase", "Jake Smith"),
        ("keyword", "PC Jones"),
        ("hashtag", "#JakeSmith"),
        ("feed", "https://mastodon.example/@carnivalfan.rss"),
    ],
)
def test_a_watch_on_a_person_is_refused_with_an_explanation_and_the_attempt_is_audited(
    operation: Operation, users: dict[str, User], kind: str, query: str
) -> None:
    network = "rss" if kind == "feed" else "replay"
    with pytest.raises(ValidationError) as raised:
        actions.check_propose_watch(
            users["dana.desk"],
            fields(operation, users["dana.desk"], network=network, kind=kind, query=query),
        )
    message = raised.value.message_dict["query"][0]
    assert message.startswith("Refused")
    assert "never a person" in message and "inbox" in message
    assert not operation.watches.exists()
    assert AuditEvent.objects.filter(action="watch.refused_on_person").count() == 1


@pytest.mark.parametrize(
    "kind,query",
    [
        ("hashtag", "#WestmereCarnival"),
        ("keyword", "carnival crush"),
        ("phrase", "tiger loose"),
        ("phrase", "Grace Festival"),
        ("place", "Market Square"),
    ],
)
def test_topics_and_places_are_not_people(kind: str, query: str) -> None:
    assert person_reason(kind, query) == ""


def test_the_form_shows_the_person_refusal_on_the_term(
    operation: Operation, users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    data = form_data(owner=str(users["dana.desk"].pk), kind="keyword", query="@carnivalfan")
    response = client_for("dana.desk").post(
        f"/monitoring/operations/{operation.pk}/watches/new/", data
    )
    assert "never a person" in response.content.decode()
    assert not operation.watches.exists()


def test_proposed_watch_waits_and_another_supervisor_approves_it(
    operation: Operation, users: dict[str, User]
) -> None:
    watch = actions.check_propose_watch(users["pcso.patel"], fields(operation, users["pcso.patel"]))
    assert watch.status == Watch.Status.AWAITING_APPROVAL
    assert not watch.is_collecting
    with pytest.raises(AccessRefused):
        actions.check_approve_watch(users["dana.desk"], watch)
    actions.check_approve_watch(users["sgt.hughes"], watch, "proportionate for crowd safety")
    watch.refresh_from_db()
    assert watch.status == Watch.Status.ACTIVE and watch.is_collecting
    assert watch.approved_by == users["sgt.hughes"]
    assert AuditEvent.objects.filter(action="watch.approved", object_id=str(watch.pk)).exists()


def test_a_supervisor_does_not_approve_their_own_proposal(
    operation: Operation, users: dict[str, User]
) -> None:
    watch = actions.check_propose_watch(users["sgt.hughes"], fields(operation, users["sgt.hughes"]))
    with pytest.raises(ValidationError, match="Another supervisor"):
        actions.check_approve_watch(users["sgt.hughes"], watch)
    actions.check_approve_watch(users["admin"], watch)


def test_refusing_needs_a_reason(operation: Operation, users: dict[str, User]) -> None:
    watch = actions.check_propose_watch(users["dana.desk"], fields(operation, users["dana.desk"]))
    with pytest.raises(ValidationError):
        actions.check_refuse_watch(users["sgt.hughes"], watch, "  ")
    actions.check_refuse_watch(users["sgt.hughes"], watch, "too broad for the purpose")
    watch.refresh_from_db()
    assert watch.status == Watch.Status.REFUSED
    assert watch.decision_reason == "too broad for the purpose"


def test_an_analyst_views_but_does_not_propose(
    operation: Operation, users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    with pytest.raises(AccessRefused):
        actions.check_propose_watch(users["alex.analyst"], fields(operation, users["alex.analyst"]))
    client = client_for("alex.analyst")
    assert client.get(f"/monitoring/operations/{operation.pk}/").status_code == 200
    assert client.get(f"/monitoring/operations/{operation.pk}/watches/new/").status_code == 403


def test_only_supervisors_keep_operations(
    users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    retention = (now() + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    data = {"name": "Op Beacon", "owner": str(users["sgt.hughes"].pk), "retention_until": retention}
    assert client_for("dana.desk").post("/monitoring/operations/new/", data).status_code == 403
    response = client_for("sgt.hughes").post("/monitoring/operations/new/", data)
    operation = Operation.objects.get(name="Op Beacon")
    assert response.status_code == 302
    assert AuditEvent.objects.filter(
        action="operation.created", object_id=str(operation.pk)
    ).exists()
    edit = dict(
        data, description="Bonfire night", area_outline="52.51, -2.08\n52.52, -2.07\n52.50, -2.06"
    )
    client_for("sgt.hughes").post(f"/monitoring/operations/{operation.pk}/edit/", edit)
    operation.refresh_from_db()
    assert operation.description == "Bonfire night" and len(operation.area_outline) == 3
    client_for("sgt.hughes").post(f"/monitoring/operations/{operation.pk}/delete/")
    assert not Operation.objects.filter(pk=operation.pk).exists()
