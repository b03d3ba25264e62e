"""Working messages: queues ordered by grade then age, claim, assign, snooze, close."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from beatdesk.audit.models import AuditEvent
from beatdesk.core.clock import now
from beatdesk.inbox import work
from beatdesk.inbox.models import Message
from beatdesk.inbox.queries import queue, queue_counts
from beatdesk.testing.fixtures import route

pytestmark = pytest.mark.django_db

KNIFE = "there's a man with a knife outside the Spar on Dudley Rd hurry!!"


@pytest.fixture
def traffic(deliver):
    ids = {}
    for key, text in [
        ("question", "what time does the PCSO surgery start in Abbeyfield?"),
        ("knife", KNIFE),
        ("thanks", "massive thanks to the officers who found my nan last night"),
    ]:
        ids[key] = route(
            deliver(
                {"id": key, "network": "x", "text": text, "account": "@WestmerePolice"}
            ).message_id
        ).pk
    return ids


def test_working_queues_put_the_emergency_first_then_the_longest_waiting(traffic, users):
    dana = users["dana.desk"]
    unassigned = list(queue(dana, "unassigned"))
    assert unassigned[0].pk == traffic["knife"]
    assert [m.pk for m in queue(dana, "emergencies")] == [traffic["knife"]]
    newest_first = list(queue(dana, "all"))
    assert newest_first[0].pk == traffic["thanks"]
    assert queue_counts(dana)["unassigned"] == 3


def test_claim_assign_snooze_and_close_move_messages_between_queues(traffic, users):
    dana, patel = users["dana.desk"], users["pcso.patel"]
    work.check_claim(dana, traffic["knife"])
    assert [m.pk for m in queue(dana, "mine")] == [traffic["knife"]]
    with pytest.raises(ValidationError, match="someone else"):
        work.check_claim(users["sgt.hughes"], traffic["knife"])
    work.check_assign(dana, traffic["question"], users["sgt.hughes"])
    assert queue(users["sgt.hughes"], "mine").count() == 1
    work.check_snooze(dana, traffic["thanks"], now() + dt.timedelta(hours=1))
    assert queue(dana, "snoozed").count() == 1 and queue(dana, "unassigned").count() == 0
    with pytest.raises(ValidationError, match="crime number"):
        work.check_close(dana, traffic["knife"], "crime_recorded")
    work.check_close(dana, traffic["knife"], "crime_recorded", "CR/0123/26")
    closed = Message.objects.get(pk=traffic["knife"])
    assert closed.state == "closed" and closed.outcome_reference == "CR/0123/26"
    assert queue(dana, "emergencies").count() == 0
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"message.claimed", "message.assigned", "message.snoozed", "message.closed"} <= actions
    with pytest.raises(PermissionDenied):
        work.check_claim(users["alex.analyst"], traffic["question"])
    with pytest.raises(PermissionDenied):
        work.check_claim(patel, traffic["question"])  # a force-account message, not his team's


def test_snoozed_messages_wake_when_their_time_comes(traffic, users):
    work.check_snooze(users["dana.desk"], traffic["thanks"], now() + dt.timedelta(minutes=5))
    Message.objects.filter(pk=traffic["thanks"]).update(
        snoozed_until=now() - dt.timedelta(seconds=1)
    )
    assert work.wake_snoozed() == 1
    assert Message.objects.get(pk=traffic["thanks"]).state == "open"


def test_the_desk_page_offers_the_actions_and_says_why_one_fails(traffic, client_for):
    desk = client_for("dana.desk")
    page = desk.get(f"/messages/{traffic['question']}/")
    assert b"Claim" in page.content and b"Close as" in page.content
    desk.post(f"/messages/{traffic['question']}/work/", {"action": "claim"})
    assert Message.objects.get(pk=traffic["question"]).state == "claimed"
    failed = desk.post(
        f"/messages/{traffic['question']}/work/",
        {"action": "close", "outcome": "crime_recorded"},
        follow=True,
    )
    assert b"needs the force" in failed.content
    listing = desk.get("/", {"queue": "mine"})
    assert b"what time does the PCSO surgery" in listing.content
    assert b'data-queue="emergencies"' in listing.content


def test_the_hand_over_page_shows_what_the_next_shift_inherits(traffic, users, client_for):
    work.check_claim(users["dana.desk"], traffic["question"])
    page = client_for("sgt.hughes").get("/desk/handover/")
    assert page.status_code == 200
    assert b"In hand" in page.content and b"PCSO surgery" in page.content
    assert b"Reply drafted" not in page.content
    assert b"please call 999" in page.content.lower()  # the drafted 999 reply is promised
    assert AuditEvent.objects.filter(action="handover.view").exists()
    assert client_for("ruth.iag").get("/desk/handover/").status_code == 403


def test_auto_assignment_fills_the_least_loaded_on_shift_person_within_capacity(
    deliver, users, force
):
    from beatdesk.accounts.models import User

    desk_team = force.teams.get(slug="digital-desk")
    dana = users["dana.desk"]
    lee = User.objects.create_user(
        "lee.desk", password="x" * 12, force=force, role="desk_operator", first_name="Lee"
    )
    lee.teams.add(desk_team)
    for u, cap in ((dana, 2), (lee, 3)):
        u.on_shift, u.capacity = True, cap
        u.save()
    for i in range(7):
        route(
            deliver(
                {
                    "id": f"q{i}",
                    "network": "x",
                    "account": "@WestmerePolice",
                    "text": f"question number {i} about parking permits",
                }
            ).message_id
        )
    assert work.do_auto_assign() == 5  # 2 + 3: nobody beyond capacity
    assert Message.objects.filter(assignee=dana).count() == 2
    assert Message.objects.filter(assignee=lee).count() == 3
    assert Message.objects.filter(assignee__isnull=True).count() == 2
    assert AuditEvent.objects.filter(action="message.auto_assigned").count() == 5
    lee.on_shift = False
    lee.save()
    work.check_close(dana, Message.objects.filter(assignee=dana).first().pk, "answered")
    assert work.do_auto_assign() == 1  # dana has room again; lee is off shift


def test_going_on_shift_from_the_header(client_for, users):
    desk = client_for("dana.desk")
    desk.post("/accounts/shift/", {"on_shift": "1", "next": "/"})
    users["dana.desk"].refresh_from_db()
    assert users["dana.desk"].on_shift
    assert b"On shift" in desk.get("/").content
