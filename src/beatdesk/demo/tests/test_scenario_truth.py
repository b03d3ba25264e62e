"""The demo day against its truth. Every message of scenario.jsonl carries the contact type
and grade a person gave it by reading it (SCENARIO.md, "Its truth"). Replayed through the
ingestion path and read by the worker, as `beatdesk demo` does, every labelled emergency
raises a grade-1 alert, and few of the other messages do: a desk that cries wolf learns to
ignore the alert bar."""

from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from beatdesk.accounts.models import Force
from beatdesk.core.queues import QUEUES
from beatdesk.demo.management.commands.demo import carnival_path, scenario_path
from beatdesk.inbox.models import Message
from beatdesk.triage.models import Alert, ContactType

# Of the scenario's messages labelled anything but emergency, at most this share may raise a
# grade-1 alert: 5%. The bundle with the alert check raises 17 false alerts of 374 (0.045);
# the one before it raised 23 (0.0615). The scenario is the development day
# (engine.SETTLED_THRESHOLD was chosen on it), so this is not a figure on unseen data.
MAX_FALSE_ALERT_SHARE = 0.05

# CONTACT_SEED.md's grading rules: the grades each contact type may carry.
GRADES = {
    "emergency": {1},
    "crime_report": {2, 3, 4},
    "information": {2, 3},
    "request": {3, 4},
    "complaint": {2, 3},
    "compliment": {4},
    "abuse": {2, 4},
    "other": {4},
}


def records(path: Callable[[], Any] = scenario_path) -> list[dict[str, Any]]:
    text = path().read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("path", [scenario_path, carnival_path], ids=["scenario", "carnival"])
def test_every_message_carries_a_type_and_grade_by_the_seed_rules(
    path: Callable[[], Any],
) -> None:
    assert set(GRADES) == set(ContactType.values)
    for record in records(path):
        assert record["contact_type"] in GRADES, record["id"]
        assert record["grade"] in GRADES[record["contact_type"]], record["id"]


@pytest.mark.django_db(transaction=True)
def test_every_labelled_emergency_alerts_and_few_others_do(
    force: Force, monkeypatch: pytest.MonkeyPatch, record_property: Callable[[str, Any], None]
) -> None:
    # The stronger abuse reading changes the abuse flag only, never type or grade; left out,
    # the worker does not load the encoder.
    monkeypatch.setenv("BEATDESK_ABUSE_ENCODER", "off")
    truth = {r["id"]: r for r in records()}
    call_command("replay", str(scenario_path()), "--fast", "--no-progress", stdout=StringIO())
    # The worker as `beatdesk worker` runs it on the database queue, until the queue is empty.
    call_command(
        "db_worker",
        *("--queue-name", ",".join(QUEUES)),
        *("--batch", "--no-startup-delay", "--no-reload"),
        stdout=StringIO(),
    )

    read = Message.objects.filter(triage__isnull=False).values_list("external_id", flat=True)
    assert sorted(read) == sorted(truth)
    alerted = set(Alert.objects.values_list("message__external_id", flat=True))
    emergencies = {i for i, r in truth.items() if r["contact_type"] == ContactType.EMERGENCY}
    others = len(truth) - len(emergencies)
    caught, missed, false = alerted & emergencies, emergencies - alerted, alerted - emergencies
    counts = {
        "messages": len(truth),
        "alerts": len(alerted),
        "emergencies": len(emergencies),
        "emergencies_alerted": len(caught),
        "false_alerts": len(false),
        "false_alert_share": round(len(false) / others, 4),
    }
    print(json.dumps(counts))
    for external_id in sorted(false):
        print(f"  false alert {external_id}: {truth[external_id]['text'][:90]!r}")
    for name, value in counts.items():
        record_property(name, value)

    assert not missed, f"labelled emergencies without an alert: {sorted(missed)}"
    assert len(false) <= MAX_FALSE_ALERT_SHARE * others, (
        f"{len(false)} of {others} non-emergencies alerted: {sorted(false)}"
    )
