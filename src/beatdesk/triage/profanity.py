"""A second opinion on offensive language, and how it is combined with the abuse head.

alt-profanity-check (MIT, on PyPI) ships a linear model its authors trained on about
200,000 labelled strings (Davidson et al.'s tweets and Wikipedia's toxic-comment set). It
knows swearing and insults our OLID head sees too rarely. The abuse reading combines both
with a small logistic regression (the "stack") fitted on out-of-fold abuse-head scores of
OLID's training part, so the stack never learns from scores the head made on texts it had
seen. It is not used for the hate head: Davidson's tweets are in its training data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from beatdesk.triage.bundle import Head
from beatdesk.triage.features import FeatureSet


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


@dataclass(frozen=True)
class AbuseStack:
    coef: tuple[float, ...]
    intercept: float

    def proba(self, p_head: np.ndarray, p_profanity: np.ndarray) -> np.ndarray:
        """P(offensive) from the abuse head's and the profanity model's probabilities."""
        z = _inputs(p_head, p_profanity) @ np.asarray(self.coef) + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-z)))

    def to_meta(self) -> dict[str, Any]:
        return {"coef": list(self.coef), "intercept": self.intercept}

    @classmethod
    def from_meta(cls, meta: dict[str, Any] | None) -> AbuseStack | None:
        if not meta:
            return None
        return cls(tuple(float(c) for c in meta["coef"]), float(meta["intercept"]))

    @classmethod
    def fit(cls, p_head: np.ndarray, p_profanity: np.ndarray, offensive: np.ndarray) -> AbuseStack:
        model = LogisticRegression(class_weight="balanced")
        model.fit(_inputs(p_head, p_profanity), offensive.astype(int))
        return cls(tuple(float(c) for c in model.coef_[0]), float(model.intercept_[0]))


def offensive_proba(head: Head, stack: AbuseStack | None, features: FeatureSet) -> np.ndarray:
    """P(offensive) for each text: the abuse head alone, or combined through the stack."""
    p_head = head.proba(features)[:, head.classes.index("OFF")]
    if stack is None:
        return np.asarray(p_head)
    return stack.proba(p_head, profanity_scores(features.texts))


def predict_offensive(head: Head, stack: AbuseStack | None, features: FeatureSet) -> list[str]:
    return ["OFF" if p >= 0.5 else "NOT" for p in offensive_proba(head, stack, features)]
