"""A second opinion on offensive language, and how it is combined with the abuse head.

alt-profanity-check (MIT, on PyPI) ships a linear model its authors trained on about
200,000 labelled strings (Davidson et al.'s tweets and Wikipedia's toxic-comment set). It
knows swearing and insults our OLID head sees too rarely. The abuse reading combines both
with a small logistic regression (the "stack") fitted on out-of-fold abuse-head scores of
OLID's training part, so the stack never learns from scores the head made on texts it had
seen. It is not used for the hate head: Davidson's tweets are in its training data.

A third, slower opinion comes from a fine-tuned MiniLM (`encoder.py`). It reads only the
messages the fast stack is unsure about (its probability inside a band chosen on training
data), so most traffic never pays for it; a second small stack (`EncoderRoute`) combines
it with the other two, fitted on a fold of OLID's training part the encoder never saw.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from sklearn.linear_model import LogisticRegression

from beatdesk.triage.bundle import Head
from beatdesk.triage.encoder import Adapter, encoder_proba
from beatdesk.triage.features import FeatureSet

# "uncertain": the encoder reads the fast stack's uncertain band only (the default);
# "all": every message (the strongest and slowest); "off": never (the fast path alone).
Routing = Literal["uncertain", "all", "off"]
ROUTING_ENV = "BEATDESK_ABUSE_ENCODER"


def profanity_scores(texts: list[str]) -> np.ndarray:
    """The package's probability that each text is offensive (its model loads on first use)."""
    from profanity_check import predict_prob

    if not texts:
        return np.zeros(0)
    return np.asarray(predict_prob(texts), dtype=float)


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-4, 1 - 1e-4)
    return np.asarray(np.log(q / (1 - q)))


def _inputs(p_head: np.ndarray, p_profanity: np.ndarray) -> np.ndarray:
    a, b = _logit(p_head), _logit(p_profanity)
    return np.column_stack([a, b, a * b])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


@dataclass(frozen=True)
class EncoderRoute:
    """When the encoder reads a message, and how its opinion joins the other two."""

    coef: tuple[float, ...]  # logit head, logit profanity, their product, logit encoder
    intercept: float
    band: tuple[float, float]  # fast-stack P(offensive) from which to which it reads
    adapter: Adapter = field(repr=False)

    def wants(self, p_fast: np.ndarray) -> np.ndarray:
        low, high = self.band
        return np.asarray((p_fast >= low) & (p_fast <= high))

    def proba(
        self, p_head: np.ndarray, p_profanity: np.ndarray, p_encoder: np.ndarray
    ) -> np.ndarray:
        x = np.column_stack([_inputs(p_head, p_profanity), _logit(p_encoder)])
        return _sigmoid(x @ np.asarray(self.coef) + self.intercept)

    def to_meta(self) -> dict[str, Any]:
        return {
            "coef": list(self.coef),
            "intercept": self.intercept,
            "band": list(self.band),
            "adapter": self.adapter,
        }

    @classmethod
    def from_meta(cls, meta: dict[str, Any] | None) -> EncoderRoute | None:
        # A plain string (metadata read back from JSON) has no weights: no encoder then.
        if not meta or not isinstance(meta.get("adapter"), Adapter):
            return None
        low, high = meta["band"]
        return cls(
            tuple(float(c) for c in meta["coef"]),
            float(meta["intercept"]),
            (float(low), float(high)),
            meta["adapter"],
        )

    @classmethod
    def fit(
        cls,
        p_head: np.ndarray,
        p_profanity: np.ndarray,
        p_encoder: np.ndarray,
        offensive: np.ndarray,
        band: tuple[float, float],
        adapter: Adapter,
    ) -> EncoderRoute:
        model = LogisticRegression(class_weight="balanced")
        x = np.column_stack([_inputs(p_head, p_profanity), _logit(p_encoder)])
        model.fit(x, offensive.astype(int))
        coef = tuple(float(c) for c in model.coef_[0])
        return cls(coef, float(model.intercept_[0]), band, adapter)


@dataclass(frozen=True)
class AbuseStack:
    coef: tuple[float, ...]
    intercept: float
    encoder: EncoderRoute | None = None

    def proba(self, p_head: np.ndarray, p_profanity: np.ndarray) -> np.ndarray:
        """P(offensive) from the abuse head's and the profanity model's probabilities."""
        return _sigmoid(_inputs(p_head, p_profanity) @ np.asarray(self.coef) + self.intercept)

    def to_meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"coef": list(self.coef), "intercept": self.intercept}
        if self.encoder is not None:
            meta["encoder"] = self.encoder.to_meta()
        return meta

    @classmethod
    def from_meta(cls, meta: dict[str, Any] | None) -> AbuseStack | None:
        if not meta:
            return None
        return cls(
            tuple(float(c) for c in meta["coef"]),
            float(meta["intercept"]),
            EncoderRoute.from_meta(meta.get("encoder")),
        )

    @classmethod
    def fit(cls, p_head: np.ndarray, p_profanity: np.ndarray, offensive: np.ndarray) -> AbuseStack:
        model = LogisticRegression(class_weight="balanced")
        model.fit(_inputs(p_head, p_profanity), offensive.astype(int))
        return cls(tuple(float(c) for c in model.coef_[0]), float(model.intercept_[0]))


@dataclass
class AbuseReading:
    proba: np.ndarray  # P(offensive) per text
    read_by_encoder: np.ndarray  # which texts the encoder read


def read_offensive(
    head: Head, stack: AbuseStack | None, features: FeatureSet, *, encoder: Routing | None = None
) -> AbuseReading:
    """The abuse reading of each text, and which texts needed the encoder."""
    routing = encoder or routing_from_env()
    p_head = np.asarray(head.proba(features)[:, head.classes.index("OFF")])
    nobody = np.zeros(len(p_head), dtype=bool)
    if stack is None:
        return AbuseReading(p_head, nobody)
    texts = features.texts
    p_profanity = profanity_scores(texts)
    p = stack.proba(p_head, p_profanity)
    route = stack.encoder
    if route is None or routing == "off" or not len(p):
        return AbuseReading(p, nobody)
    chosen = route.wants(p) if routing == "uncertain" else ~nobody
    idx = np.flatnonzero(chosen)
    if len(idx):
        p_encoder = encoder_proba(route.adapter, [texts[i] for i in idx])
        p[idx] = route.proba(p_head[idx], p_profanity[idx], p_encoder)
    return AbuseReading(p, chosen)


def routing_from_env() -> Routing:
    value = os.environ.get(ROUTING_ENV, "uncertain")
    if value not in ("uncertain", "all", "off"):
        raise ValueError(f"{ROUTING_ENV} must be uncertain, all or off, not {value!r}")
    return value  # type: ignore[return-value]


def offensive_proba(
    head: Head, stack: AbuseStack | None, features: FeatureSet, *, encoder: Routing | None = None
) -> np.ndarray:
    """P(offensive) for each text: the abuse head alone, or combined through the stack (and
    the encoder for the uncertain ones, unless `encoder` or BEATDESK_ABUSE_ENCODER says
    otherwise)."""
    return read_offensive(head, stack, features, encoder=encoder).proba


def predict_offensive(
    head: Head, stack: AbuseStack | None, features: FeatureSet, *, encoder: Routing | None = None
) -> list[str]:
    p = offensive_proba(head, stack, features, encoder=encoder)
    return ["OFF" if v >= 0.5 else "NOT" for v in p]
