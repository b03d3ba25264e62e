"""The alert check: grade 1 for what is happening now and dangerous, not for words alone."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.management import call_command

from beatdesk.triage.alert_check import NAMES, AlertCheck
from beatdesk.triage.bundle import active_bundle
from beatdesk.triage.datasets import CHATTER_FILE, SEED_SET
from beatdesk.triage.engine import read_many


def test_the_shipped_model_carries_an_emergency_head_and_an_alert_check():
    bundle = active_bundle()
    check = AlertCheck.from_meta(bundle.meta.get("alert_check"))
    assert check is not None and len(check.coef) == len(NAMES)
    assert 0 < check.threshold < 1
    assert bundle.heads["emergency"].classes == ["emergency", "not"]


# The kinds of false alarm a new operator saw in the demo's first twelve minutes, written
# afresh here: praise, lost property, a question, a nuisance, a complaint.
NOT_EMERGENCIES = [
    "PCSO Dave on Dudley Road is an absolute legend, sorted the lads at the bus stop for us",
    "lost my car keys somewhere near the rec this afternoon, black fob with a red tag",
    "is it actually illegal to park on the pavement outside my own house?",
    "the music from number 14 has been going since 11 every weekend, can someone have a word",
    "why do you never do anything about the drug dealing behind the chippy? every night it is",
    "I'll kill my brother if he finishes the last of the cereal again 😂",
    pytest.param(
        "BBC says a man was stabbed in the town centre last month, he's since been jailed",
        marks=pytest.mark.xfail(
            strict=True,
            reason="known miss: both heads read a retold stabbing as an emergency and the "
            "past and news cues do not outweigh them (MODELS.md, 'The alert check')",
        ),
    ),
]
EMERGENCIES = [
    "there's a man with a knife outside the Spar on Dudley Road right now threatening people",
    "someone is kicking my front door in, I'm hiding upstairs with the kids, 4 Elm Close",
    "my dad has collapsed and isn't breathing properly, we're at the park by the bandstand",
    "Mae dyn gyda chyllell tu allan i'r siop nawr, mae'n bygwth pobl",
]


@pytest.mark.parametrize("text", NOT_EMERGENCIES)
def test_words_that_only_sound_urgent_do_not_raise_an_alert(text):
    reading = read_many([text])[0]
    assert reading.grade > 1 and reading.contact_type != "emergency", reading.reasons


@pytest.mark.parametrize("text", EMERGENCIES)
def test_emergencies_still_raise_the_alert_and_say_why(text):
    reading = read_many([text])[0]
    assert reading.grade == 1 and reading.contact_type == "emergency"
    assert any("alert check" in r for r in reading.reasons)


def test_political_chatter_with_violent_words_is_rarely_grade_1():
    # Tweets not addressed to the police (the chatter sample the check learned from are
    # Davidson's; these are written here).
    chatter = [
        "the government is killing the NHS and nobody cares",
        "gun control debate again, same arguments every time, nothing changes",
        "that ref should be shot for that decision honestly",
        "absolutely murdered that exam today, buzzing",
        "antifa and the far right will end up killing each other at this rate",
    ]
    assert sum(r.grade == 1 for r in read_many(chatter)) <= 1


def test_contact_eval_reports_alert_precision_recall_and_the_confusion(capsys):
    call_command("triage", "eval", "--task", "contact", str(SEED_SET))
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("emergency_precision", "emergency_recall", "grade1_precision", "grade1_recall"):
        assert 0 <= result[key] <= 1
    confusion = result["confusion"]
    assert sum(sum(row.values()) for row in confusion.values()) == result["n"]
    said = sum(row["emergency"] for row in confusion.values())
    right = confusion["emergency"]["emergency"]
    assert result["emergency_precision"] == round(right / said, 4)


def test_alert_check_threshold_keeps_the_recall_floor_on_out_of_fold_readings():
    rng = np.random.default_rng(0)
    emergency = rng.random(400) < 0.3
    x = rng.normal(size=(400, len(NAMES)))
    x[:, 0] += emergency * 2.0  # the contact head's logit carries the signal
    check = AlertCheck.fit(x, emergency, seed=1)
    caught = check.alerts(x)[emergency].mean()
    assert caught >= 0.9
    again = AlertCheck.from_meta(check.to_meta())
    assert again is not None and again.threshold == pytest.approx(check.threshold, abs=1e-6)


def test_the_chatter_sample_ships_with_the_package():
    rows = [json.loads(line) for line in CHATTER_FILE.open(encoding="utf-8")]
    assert len(rows) >= 3000 and all(r["text"] and r["source"] for r in rows)
