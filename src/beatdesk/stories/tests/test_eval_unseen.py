"""`monitor eval` and `triage eval` never score a text the scoring model trained on.

The model is a tiny bundle trained here as `triage train` trains the rumour and abuse heads
(each task's split, fit_head, fingerprints of the training part), so no shared data is needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from beatdesk.stories.engine import Assignment, Post, StoryEngine
from beatdesk.triage.bundle import Bundle, load_bundle
from beatdesk.triage.datasets import TASKS, load, split
from beatdesk.triage.features import FeatureSet, text_key
from beatdesk.triage.training import fit_head

TRAINING_EVENTS = ("ferguson", "charliehebdo")
HELD_OUT_EVENTS = TASKS["rumour"].held_out_events  # sydneysiege, germanwings-crash


def pheme_rows() -> list[dict]:
    rows = []
    for e, event in enumerate(TRAINING_EVENTS + HELD_OUT_EVENTS):
        for i in range(12):
            rumour = i % 2 == 1
            text = (
                f"unconfirmed: is it true {event} suspect number {i} was seen?"
                if rumour
                else f"thoughts with everyone at {event} tonight, stay safe {i}"
            )
            rows.append(
                {
                    "id": f"{e}{i:03d}",
                    "event": event,
                    "created_at": f"2015-01-0{e + 1}T11:{i * 2:02d}:00+00:00",
                    "text": text,
                    "label": "rumour" if rumour else "non-rumour",
                    "lang": "en",
                }
            )
    # The same claim told again in a held-out event: in training by its text, so left out.
    rows.append({**rows[1], "id": "copy", "event": HELD_OUT_EVENTS[0]})
    return rows


def olid_rows() -> list[dict]:
    rows = [{"text": f"@USER you absolute idiot number {i}", "label": "OFF"} for i in range(8)]
    rows += [{"text": f"@USER lovely parade photos {i}", "label": "NOT"} for i in range(8)]
    return rows


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def tiny_model(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(model file, PHEME-shaped file, OLID-shaped file); the model trained on the rumour
    task's train part (the held-out events stay out, as in the shipped model) and on the
    first half of the OLID-shaped file."""
    pheme = write(tmp_path / "pheme.jsonl", pheme_rows())
    olid = write(tmp_path / "olid.jsonl", olid_rows())
    rumour_train, _ = split(TASKS["rumour"], load(TASKS["rumour"], pheme))
    abuse_all = load(TASKS["abuse"], olid)
    abuse_train = load(TASKS["abuse"], write(tmp_path / "olid_train.jsonl", olid_rows()[::2]))
    assert len(abuse_train) < len(abuse_all)
    heads, keys = {}, {}
    for name, part in (("rumour", rumour_train), ("abuse", abuse_train)):
        heads[name] = fit_head(name, FeatureSet(part.texts), part.labels)
        keys[name] = np.unique(np.array([text_key(t) for t in part.texts], dtype=np.int64))
    model = tmp_path / "tiny.joblib"
    Bundle(heads=heads, trained_keys=keys).save(model)
    return model, pheme, olid


@pytest.fixture
def read_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text any model reads, and every post the story engine clusters."""
    texts: list[str] = []
    features = Bundle.features
    add = StoryEngine.add

    def spy_features(batch: list[str]) -> FeatureSet:
        texts.extend(batch)
        return features(batch)

    def spy_add(self: StoryEngine, post: Post) -> Assignment:
        texts.append(post.text)
        return add(self, post)

    monkeypatch.setattr(Bundle, "features", staticmethod(spy_features))
    monkeypatch.setattr(StoryEngine, "add", spy_add)
    return texts


def trained(model: Path, task: str, texts: list[str]) -> int:
    """How many of the texts are in the model's training fingerprints for the task."""
    return int(load_bundle(model).trained_on(task, [text_key(t) for t in texts]).sum())


def last_json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_monitor_eval_leaves_out_every_text_the_model_trained_on(
    tiny_model, read_texts, capsys
) -> None:
    model, pheme, _ = tiny_model
    call_command("monitor", "eval", str(pheme), "--model", str(model), "--no-progress")
    result = last_json(capsys)
    assert read_texts and trained(model, "rumour", read_texts) == 0
    # Both training events (24 threads) and the copy of a training claim are left out.
    assert result["left_out_trained"] == 25
    assert result["n"] == 24 and set(result["events"]) == set(HELD_OUT_EVENTS)


def test_monitor_eval_refuses_an_event_wholly_in_training(tiny_model, read_texts) -> None:
    model, pheme, _ = tiny_model
    with pytest.raises(CommandError, match="event ferguson is wholly in the scoring model"):
        call_command(
            "monitor", "eval", str(pheme), "--model", str(model), "--events", "ferguson,sydneysiege"
        )
    assert read_texts == []


def test_monitor_eval_on_held_out_events_leaves_out_only_copies(tiny_model, capsys) -> None:
    model, pheme, _ = tiny_model
    events = ",".join(HELD_OUT_EVENTS)
    call_command("monitor", "eval", str(pheme), "--model", str(model), "--events", events)
    result = last_json(capsys)
    assert result["n"] == 24 and result["left_out_trained"] == 1


@pytest.mark.parametrize("task", ["rumour", "abuse"])
def test_triage_eval_reads_no_text_the_model_trained_on(
    tiny_model, read_texts, capsys, task: str
) -> None:
    model, pheme, olid = tiny_model
    path = pheme if task == "rumour" else olid
    call_command("triage", "eval", "--task", task, str(path), "--model", str(model))
    result = last_json(capsys)
    assert read_texts and trained(model, task, read_texts) == 0
    assert result["skipped_as_training_data"] == (25 if task == "rumour" else 8)
