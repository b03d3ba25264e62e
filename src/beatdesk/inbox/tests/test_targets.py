"""Response targets: every message gets a due time by grade; a missed one escalates to the
supervisors until someone acknowledges it."""

from __future__ import annotations

import datetime as dt

import pytest

from beatdesk.audit.models import AuditEvent
from beatdesk.core.clock import now
from beatdesk.inbox import work
from beatdesk.inbox.models import Escalation, Message
from beatdesk.inbox.queries import queue
from beatdesk.testing.fixtures import route

pytestmark = pytest.mark.django_db
KNIFE = "there's a man with a knife outside the Spar on Dudley Rd hurry!!"


@pytest.fixture
def emergency(deliver):
    return route(
        deliver({"id": "k", "network": "x", "text": KNIFE, "account": "@WestmerePolice"}).message_id
    )


def test_each_message_is_due_by_its_grade(emergency, deliver):
    assert emergency.triage.grade == 1
    assert emergency.due_at == emergency.received_at + dt.timedelta(minutes=5)
    thanks = route(
        deliver(
            {
                "id": "t",
                "network": "x",
                "account": "@WestmerePolice",
                "text": "massive thanks to the officers who found my nan",
            }
        ).message_id
    )
    assert thanks.due_at - thanks.received_at == dt.timedelta(days=3)


def test_a_missed_target_escalates_to_supervisors_until_acknowledged(emergency, users, client_for):
    assert work.do_escalate_breaches() == 0
    Message.objects.filter(pk=emergency.pk).update(due_at=now() - dt.timedelta(minutes=1))
    assert work.do_escalate_breaches() == 1
    assert work.do_escalate_breaches() == 0  # once only
    assert AuditEvent.objects.filter(action="message.escalated").exists()
    sergeant = users["sgt.hughes"]
    assert [m.pk for m in queue(sergeant, "breached")] == [emergency.pk]
    bar = client_for("sgt.hughes").get("/triage/alerts/")
    assert b"Missed response targets" in bar.content
    assert b"Missed response targets" not in client_for("dana.desk").get("/triage/alerts/").content
    rows = client_for("dana.desk").get("/inbox/rows/")
    assert b"overdue" in rows.content
    work.check_claim(users["dana.desk"], emergency.pk)
    assert Escalation.objects.get(message=emergency).resolved_at is not None
    assert queue(sergeant, "breached").count() == 0
    emergency.refresh_from_db()
    assert emergency.acknowledged_at is not None


def test_supervisors_set_the_targets_and_new_messages_follow_them(client_for, deliver):
    sergeant = client_for("sgt.hughes")
    assert sergeant.get("/desk/targets/").status_code == 200
    bad = sergeant.post("/desk/targets/", {"grade_1": "soon"})
    assert b"whole number" in bad.content
    sergeant.post(
        "/desk/targets/", {"grade_1": "2", "grade_2": "30", "grade_3": "", "grade_4": "60"}
    )
    message = route(
        deliver(
            {"id": "k2", "network": "x", "text": KNIFE, "account": "@WestmerePolice"}
        ).message_id
    )
    assert message.due_at == message.received_at + dt.timedelta(minutes=2)
    assert AuditEvent.objects.filter(action="targets.saved").exists()
    assert client_for("dana.desk").get("/desk/targets/").status_code == 403
