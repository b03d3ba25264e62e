"""A case holding messages of several teams: each person reads only the messages of teams
they may see, the rest withheld, and every message shown is audited as read."""

from __future__ import annotations

import pytest

from beatdesk.audit.actions import Category, record
from beatdesk.audit.models import AuditEvent
from beatdesk.cases.actions import check_create_case
from beatdesk.cases.queries import timeline
from beatdesk.inbox.models import Message
from beatdesk.testing.fixtures import route

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed_case(deliver, users):
    ids = []
    # Plain past crime reports, so that triage routes each to its area's team (a bare "bike
    # taken from Dudley Road" reads as an emergency: MODELS.md, "The alert check").
    for id_, account, text in [
        ("x-1", "@WMP_DudleyRd", "my bike was taken from the shed on Dudley Road last week"),
        ("x-2", "@WMP_CanalSide", "my bike was taken from the towpath last week"),
    ]:
        result = deliver({"id": id_, "network": "x", "text": text, "account": account})
        ids.append(route(result.message_id).pk)
    # The case takes the first message's team: Dudley Road, pcso.patel's.
    return check_create_case(users["dana.desk"], ids, title="Bikes on both sides"), ids


def test_an_officer_reads_only_their_teams_message_of_a_case_the_rest_withheld(
    mixed_case, client_for
):
    case, (dudley, canal) = mixed_case
    page = client_for("pcso.patel").get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    assert b"shed on Dudley Road" in page.content
    assert b"towpath" not in page.content
    assert b'data-withheld="1"' in page.content
    views = AuditEvent.objects.filter(action="message.view", category="consultation")
    assert [e.object_id for e in views] == [str(dudley)]
    assert views.get().justification == f"linked to case {case.reference}"


def test_who_may_see_every_team_reads_the_whole_case_and_each_read_is_audited(
    mixed_case, client_for
):
    case, ids = mixed_case
    page = client_for("dana.desk").get(f"/cases/{case.pk}/")
    assert b"shed on Dudley Road" in page.content and b"towpath" in page.content
    assert b"data-withheld" not in page.content
    views = AuditEvent.objects.filter(action="message.view")
    assert sorted(int(e.object_id) for e in views) == sorted(ids)


def test_the_timeline_leaves_out_what_was_done_to_a_withheld_message(mixed_case, users):
    case, (dudley, canal) = mixed_case
    record(
        users["dana.desk"],
        Category.ALTERATION,
        "message.closed",
        Message.objects.get(pk=canal),
        justification="towpath: referred to Canal Side",
    )
    officer = [e.justification for e in timeline(users["pcso.patel"], case)]
    desk = [e.justification for e in timeline(users["dana.desk"], case)]
    assert "towpath: referred to Canal Side" in desk
    assert "towpath: referred to Canal Side" not in officer
