"""A record that exists but is not this user's to see gets the same answer as one that does
not exist (404), so ids cannot be probed; both are refusals in the audit log."""

from __future__ import annotations

import pytest

from beatdesk.audit.models import AuditEvent
from beatdesk.cases.actions import check_create_case
from beatdesk.testing.fixtures import page_body, route

pytestmark = pytest.mark.django_db


def _message(deliver, id_: str, account: str):
    result = deliver(
        {"id": id_, "network": "x", "author": "@resident", "text": f"hi {id_}", "account": account}
    )
    return route(result.message_id)


def test_another_teams_message_and_a_missing_one_answer_alike(deliver, client_for):
    theirs = _message(deliver, "x-1", "@WMP_CanalSide")
    officer = client_for("pcso.patel")
    hidden = officer.get(f"/messages/{theirs.pk}/")
    missing = officer.get("/messages/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert page_body(hidden) == page_body(missing)
    refusals = AuditEvent.objects.filter(action="access.refused", category="authorization")
    assert {e.object_id for e in refusals} == {str(theirs.pk), "999999"}
    assert not AuditEvent.objects.filter(action="message.view").exists()


def test_another_teams_case_and_a_missing_one_answer_alike(deliver, client_for, users):
    theirs = _message(deliver, "x-1", "@WMP_CanalSide")
    case = check_create_case(users["dana.desk"], [theirs.pk], title="Canal Side bikes")
    officer = client_for("pcso.patel")
    hidden = officer.get(f"/cases/{case.pk}/")
    missing = officer.get("/cases/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert page_body(hidden) == page_body(missing)
    assert AuditEvent.objects.filter(action="access.refused").count() == 2


def test_a_role_that_may_not_open_the_page_is_refused_whatever_the_id(deliver, client_for):
    message = _message(deliver, "x-1", "@WestmerePolice")
    adviser = client_for("ruth.iag")
    assert adviser.get(f"/messages/{message.pk}/").status_code == 403
    assert adviser.get("/messages/999999/").status_code == 403
