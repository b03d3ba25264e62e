"""Cases: reference numbers, team scope, audit."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404

from beatdesk.accounts.models import Force, Team
from beatdesk.audit.models import AuditEvent
from beatdesk.cases.actions import check_create_case, next_reference
from beatdesk.cases.models import Case
from beatdesk.cases.queries import access_case
from beatdesk.testing.fixtures import route as do_route

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_messages(deliver):
    ids = []
    for n, account in enumerate(["@WMP_DudleyRd", "@WMP_DudleyRd"]):
        result = deliver(
            {"id": f"x-{n}", "network": "x", "text": f"bike stolen {n}", "account": account}
        )
        do_route(result.message_id)
        ids.append(result.message_id)
    return ids


def test_a_case_from_two_messages_gets_the_next_reference(users, two_messages):
    dana = users["dana.desk"]
    first = check_create_case(dana, two_messages, title="Bike thefts, Dudley Rd")
    second = check_create_case(dana, two_messages[:1], title="Follow-up")
    year = first.created_at.year
    assert first.reference == f"BD-{year}-000001"
    assert second.reference == f"BD-{year}-000002"
    assert first.messages.count() == 2 and first.team.name == "Dudley Road NPT"
    event = AuditEvent.objects.get(action="case.created", object_id=str(first.pk))
    assert event.category == "combination"


def test_an_officer_reads_own_teams_cases_and_is_refused_others(users, two_messages, deliver):
    case = check_create_case(users["dana.desk"], two_messages, title="Bikes")
    assert access_case(users["pcso.patel"], case.pk, purpose="test").pk == case.pk
    other_id = deliver(
        {"id": "x-9", "network": "x", "text": "hi", "account": "@WMP_CanalSide"}
    ).message_id
    do_route(other_id)
    other = check_create_case(users["dana.desk"], [other_id], title="Canal")
    with pytest.raises(Http404):  # as if it did not exist: ids cannot be probed
        access_case(users["pcso.patel"], other.pk, purpose="test")
    assert AuditEvent.objects.filter(action="access.refused").count() == 1


def test_analysts_cannot_open_cases_and_bad_input_is_a_clear_error(users, two_messages):
    with pytest.raises(PermissionDenied):
        check_create_case(users["alex.analyst"], two_messages, title="x")
    with pytest.raises(ValidationError, match="grade"):
        check_create_case(users["dana.desk"], two_messages, title="x", grade=7)
    with pytest.raises(ValidationError, match="at least one"):
        check_create_case(users["dana.desk"], [], title="x")


def test_the_desk_opens_a_case_from_selected_messages_and_keeps_its_story(two_messages, client_for):
    desk = client_for("dana.desk")
    response = desk.post(
        "/cases/new/", {"message": [str(i) for i in two_messages], "title": "Bikes", "grade": "2"}
    )
    case = Case.objects.get(title="Bikes")
    assert response.status_code == 302 and response.url == f"/cases/{case.pk}/"
    assert case.grade == 2 and case.messages.count() == 2
    desk.post(f"/cases/{case.pk}/update/", {"note": "Spoke to the shop owner; CCTV requested."})
    desk.post(
        f"/cases/{case.pk}/update/",
        {
            "status": "in_progress",
            "force_references": "CR/0456/26",
            "hold_field": "1",
            "legal_hold": "on",
            "legal_hold_reason": "CCTV may be evidence",
        },
    )
    case.refresh_from_db()
    assert case.status == "in_progress" and case.force_references == "CR/0456/26"
    assert case.legal_hold and case.notes.count() == 1
    page = desk.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    for text in (b"CCTV requested", b"Legal hold", b"case.created", b"case.note_added"):
        assert text in page.content
    assert AuditEvent.objects.filter(action="case.view").exists()
    no_reason = desk.post(
        f"/cases/{case.pk}/update/", {"hold_field": "1"}, follow=True
    )  # unticking the hold needs no reason
    assert b"Case updated" in no_reason.content
    case.refresh_from_db()
    assert not case.legal_hold
    bad = desk.post("/cases/new/", {"title": "nothing"}, follow=True)
    assert b"at least one message" in bad.content


def test_two_forces_with_the_same_prefix_each_number_their_own_cases(users, two_messages):
    """References are unique within a force: a second force on the same installation with
    the default prefix starts at 000001 too, instead of failing on the first case."""
    first = check_create_case(users["dana.desk"], two_messages, title="Bikes")
    other = Force.objects.create(name="Eastholm Police", slug="eastholm")
    team = Team.objects.create(force=other, name="Eastholm desk")
    with transaction.atomic():
        second = Case.objects.create(
            force=other,
            reference=next_reference(other),
            title="Eastholm's first",
            team=team,
            created_by=users["dana.desk"],
        )
    assert first.reference == second.reference == f"BD-{first.created_at.year}-000001"
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(
            force=other, reference=second.reference, title="again", team=team,
            created_by=users["dana.desk"],
        )  # fmt: skip
