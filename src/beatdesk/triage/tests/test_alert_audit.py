"""The alert bar shows a grade-1 message's text: that read is audited, once per session."""

from __future__ import annotations

import pytest

from beatdesk.audit.models import AuditEvent
from beatdesk.triage.tests.test_triage import KNIFE, post

pytestmark = pytest.mark.django_db


def test_the_alert_bar_audits_the_message_it_shows_once_per_session(deliver, client_for, users):
    message = post(deliver, KNIFE)
    desk = client_for("dana.desk")
    assert b"a man with a knife outside the Spar" in desk.get("/triage/alerts/").content
    desk.get("/triage/alerts/")  # the bar polls: the same message is not recorded again
    shown = AuditEvent.objects.filter(action="message.view", object_id=str(message.pk))
    assert shown.count() == 1
    event = shown.get()
    assert event.category == "consultation" and event.actor == users["dana.desk"]
    assert event.justification == "shown in the emergency alert bar"
    # Another person's bar is their own read.
    client_for("sgt.hughes").get("/triage/alerts/")
    assert shown.count() == 2
