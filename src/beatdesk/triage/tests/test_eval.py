"""`beatdesk triage eval`: the contract's JSON, and never a score on training data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from beatdesk.triage.datasets import SEED_SET


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_contact_eval_scores_only_the_held_out_part_of_the_seed_set(capsys):
    call_command("triage", "eval", "--task", "contact", str(SEED_SET))
    result = last_json(capsys)
    assert {
        "task",
        "n",
        "macro_f1",
        "per_class",
        "msgs_per_s",
        "grade_macro_f1",
        "emergency_recall",
    } <= set(result)
    assert result["task"] == "contact"
    assert 100 < result["n"] < 200 and result["skipped_as_training_data"] > 500
    assert set(result["per_class"]) >= {"emergency", "compliment", "abuse"}
    flags = result["abuse_flags"]  # the abuse flag on messages to the desk, by contact type
    assert set(flags) == {"n", "fast", "two_stage"}
    assert set(flags["two_stage"]) == {"abuse_recall", "false_flag_rate", "macro_f1"}


def test_abuse_eval_on_olid_shaped_records(tmp_path, capsys):
    path = tmp_path / "olid.jsonl"
    rows = [
        {"id": "1", "text": "@USER you are a total waste of space, shut up", "label": "OFF"},
        {"id": "2", "text": "@USER thanks for the update on the road closure", "label": "NOT"},
        {"id": "3", "text": "@USER what an absolute idiot this guy is", "label": "OFF"},
        {"id": "4", "text": "@USER lovely photos of the parade today", "label": "NOT"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    call_command("triage", "eval", "--task", "abuse", str(path))
    result = last_json(capsys)
    assert result["n"] == 4 and set(result["per_class"]) == {"OFF", "NOT"}
    assert 0 <= result["macro_f1"] <= 1 and result["msgs_per_s"] > 0


def test_crisis_type_skips_unlabelled_records(tmp_path, capsys):
    path = tmp_path / "crisis.jsonl"
    rows = [
        {
            "id": "1",
            "event": "x",
            "text": "Roads closed near the river, avoid the bridge",
            "label": "Related and informative",
            "info_type": "Caution and advice",
        },
        {
            "id": "2",
            "event": "x",
            "text": "thoughts with everyone affected tonight",
            "label": "Related and informative",
            "info_type": "Sympathy and support",
        },
        {
            "id": "3",
            "event": "x",
            "text": "random unrelated post",
            "label": "Not related",
            "info_type": "Not labeled",
        },
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    call_command("triage", "eval", "--task", "crisis-type", str(path))
    assert last_json(capsys)["n"] == 2


def test_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("triage", "eval", "--task", "abuse", str(tmp_path / "missing.jsonl"))
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "a", "label": "OFF"}\nnot json\n')
    with pytest.raises(CommandError, match="line 2: not JSON"):
        call_command("triage", "eval", "--task", "abuse", str(broken))
    unlabelled = tmp_path / "unlabelled.jsonl"
    unlabelled.write_text('{"text": "a"}\n')
    with pytest.raises(CommandError, match="no records with a 'label' label"):
        call_command("triage", "eval", "--task", "abuse", str(unlabelled))


def test_heads_read_together_give_what_each_gives_alone() -> None:
    from beatdesk.triage.bundle import active_bundle

    bundle = active_bundle()
    texts = ["there's a man with a knife outside the Spar!!", "thanks officers", "", "zzqx"]
    names = ["contact", "grade", "abuse", "rumour", "crisis-informative"]
    features = bundle.features(texts)
    together = bundle.read(features, names)
    for name in names:
        head = bundle.heads[name]
        alone = head.proba_from_counts(bundle.features(texts).get(head.space))
        assert np.allclose(together[name], alone, atol=1e-5)
        assert head.proba(features) is together[name]  # later readers reuse the batch's
