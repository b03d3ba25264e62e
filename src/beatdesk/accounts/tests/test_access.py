"""One access layer: role and team decide, refusals are audited, reads are consultations."""

from __future__ import annotations

import pytest

from beatdesk.audit.models import AuditEvent
from beatdesk.inbox.models import Message
from beatdesk.testing.fixtures import route as do_route

pytestmark = pytest.mark.django_db


@pytest.fixture
def routed(deliver):
    def _routed(id_: str, account: str) -> Message:
        result = deliver(
            {
                "id": id_,
                "network": "x",
                "author": "@resident",
                "text": f"hello {id_}",
                "account": account,
            }
        )
        message = do_route(result.message_id)
        assert message is not None
        return message

    return _routed


def test_desk_operator_opens_any_message_and_the_read_is_a_consultation(routed, client_for, users):
    message = routed("x-1", "@WMP_CanalSide")
    response = client_for("dana.desk").get(f"/messages/{message.pk}/")
    assert response.status_code == 200
    assert b"hello x-1" in response.content
    event = AuditEvent.objects.get(action="message.view")
    assert event.category == "consultation"
    assert event.actor == users["dana.desk"]
    assert event.object_type == "inbox.message" and event.object_id == str(message.pk)
    assert event.justification == "opened from the inbox"


def test_officer_sees_own_teams_messages_only(routed, client_for):
    mine = routed("x-1", "@WMP_DudleyRd")
    theirs = routed("x-2", "@WMP_CanalSide")
    officer = client_for("pcso.patel")
    listing = officer.get("/")
    assert b"hello x-1" in listing.content and b"hello x-2" not in listing.content
    assert officer.get(f"/messages/{mine.pk}/").status_code == 200
    refused = officer.get(f"/messages/{theirs.pk}/")
    assert refused.status_code == 404  # as if it did not exist: see test_hidden.py
    event = AuditEvent.objects.get(action="access.refused")
    assert event.category == "authorization" and event.object_id == str(theirs.pk)


def test_adviser_cannot_see_the_inbox_and_the_attempt_is_logged(routed, client_for):
    message = routed("x-1", "@WestmerePolice")
    adviser = client_for("ruth.iag")
    assert adviser.get("/").status_code == 403
    assert adviser.get(f"/messages/{message.pk}/").status_code == 403
    assert AuditEvent.objects.filter(action="access.refused").count() == 2


def test_a_missing_message_is_404_not_a_stack_trace(client_for, force):
    assert client_for("dana.desk").get("/messages/999999/").status_code == 404


def test_inbox_list_views_are_audited_once_per_change_not_per_poll(routed, client_for):
    routed("x-1", "@WestmerePolice")
    desk = client_for("dana.desk")
    desk.get("/")
    desk.get("/inbox/rows/")
    assert AuditEvent.objects.filter(action="message.list").count() == 1
    routed("x-2", "@WestmerePolice")
    desk.get("/inbox/rows/")
    assert AuditEvent.objects.filter(action="message.list").count() == 2


def test_inbox_filters_by_network_account_and_area(routed, client_for, force):
    routed("x-1", "@WMP_DudleyRd")
    routed("x-2", "@WMP_CanalSide")
    desk = client_for("dana.desk")
    area = force.areas.get(slug="canal-side")
    body = desk.get("/", {"area": area.pk}).content
    assert b"hello x-2" in body and b"hello x-1" not in body
    body = desk.get("/", {"network": "mastodon"}).content
    assert b"No messages yet" in body
    bad = desk.get("/", {"area": "not-a-number"})
    assert bad.status_code == 200  # an unusable filter shows everything, never a crash


def test_the_audit_log_page_is_for_supervisors(routed, client_for):
    assert client_for("sgt.hughes").get("/audit/").status_code == 200
    assert client_for("dana.desk").get("/audit/").status_code == 403
