"""The stronger abuse model reads, after routing and in its own task, only the messages the
fast reading was unsure of; a staff correction is never overwritten."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from beatdesk.audit.models import AuditEvent
from beatdesk.testing.fixtures import route
from beatdesk.triage.actions import do_correct_triage, do_reread_abuse
from beatdesk.triage.engine import read_many

pytestmark = pytest.mark.django_db

# Messages whose offensiveness is arguable; the fast reading is unsure of some of them.
BORDERLINE = [
    "you lot are useless, absolute joke of a force",
    "what a bunch of clowns running this shambles",
    "shut up and do your job",
    "this is bloody ridiculous, nobody ever answers",
    "stupid question but is the road open yet",
    "you're all a disgrace to the uniform",
    "pathetic response from the police again",
    "idiots parked on the pavement again outside the school",
    "f*** this, third time I've reported it",
    "get a grip, you clowns",
    "@USER she is a joke",
    "@USER gun control now",
    "@USER what a load of rubbish",
    "these politicians are all crooks",
]
POLITE = "thank you for the update, is the road open again?"


def _unsure_text() -> str:
    readings = read_many(BORDERLINE)
    for text, reading in zip(BORDERLINE, readings, strict=True):
        if reading.abuse_unsure:
            return text
    raise AssertionError("none of the borderline messages is in the unsure band")


def _post(deliver, text: str, id_: str):
    result = deliver({"id": id_, "network": "x", "author": "@someone", "text": text})
    return result.message_id


def test_only_unsure_messages_are_handed_to_the_stronger_model_after_routing(
    deliver, django_capture_on_commit_callbacks
):
    unsure = _post(deliver, _unsure_text(), "u-1")
    polite = _post(deliver, POLITE, "p-1")
    with django_capture_on_commit_callbacks(execute=True):
        route(unsure)
        route(polite)
    queued = DBTaskResult.objects.filter(task_path__endswith="reread_abuse")
    assert [r.args_kwargs["args"][0] for r in queued] == [[unsure]]


def test_the_second_reading_updates_the_score_says_so_and_is_audited(deliver):
    message = route(_post(deliver, _unsure_text(), "u-2"))
    before = message.triage.abuse_score
    [triage] = do_reread_abuse([message.pk])
    triage.refresh_from_db()
    assert triage.abuse_reread_at is not None
    assert triage.reasons[-1].startswith("abuse read again by the stronger model")
    assert triage.abusive == (triage.abuse_score >= 0.5)
    assert 0.0 <= triage.abuse_score <= 1.0 and isinstance(before, float)
    event = AuditEvent.objects.get(action="messages.abuse_reread")
    assert event.object_id == str(message.pk)
    assert do_reread_abuse([message.pk]) == []  # read once only


def test_a_staff_correction_is_never_overwritten(deliver, users):
    message = route(_post(deliver, _unsure_text(), "u-3"))
    do_correct_triage(users["sgt.hughes"], message.triage, contact_type="complaint", grade=3)
    assert do_reread_abuse([message.pk]) == []


def test_the_second_reading_can_be_switched_off(
    deliver, monkeypatch, django_capture_on_commit_callbacks
):
    text = _unsure_text()  # chosen with the second reading on
    monkeypatch.setenv("BEATDESK_ABUSE_ENCODER", "off")
    unsure = _post(deliver, text, "u-4")
    with django_capture_on_commit_callbacks(execute=True):
        route(unsure)
    assert not DBTaskResult.objects.filter(task_path__endswith="reread_abuse").exists()
