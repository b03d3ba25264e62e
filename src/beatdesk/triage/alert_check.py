"""The alert check: the last word on whether a message is graded 1 and alerts the desk.

A false alert costs the desk a look and, repeated, its trust in the red strip; a missed one
can cost a life. The check weighs the contact head's emergency probability, a head trained
on emergency against everything else, and the cue words of `signals` — those that point to
an emergency (threat-to-life words, happening now) and those that point away (thanks, the
past, lost property, a question about the law, a joke, news, a complaint about a wait) — in
one logistic regression fitted on out-of-fold scores of the training part. Its threshold is
the highest that keeps `RECALL_FLOOR` of the training part's emergencies, judged on
out-of-fold readings of the check itself, so neither is chosen on text a head had seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from beatdesk.triage import signals

# The share of emergencies the threshold keeps on out-of-fold readings of the training part.
RECALL_FLOOR = 0.97
KINDS = (
    "threat",
    "now",
    "vulnerable",
    "past",
    "attended",
    "hearsay",
    "negation",
    "thanks",
    "lost",
    "law_question",
    "news",
    "joke",
    "complaint",
)
NAMES = ("contact_model", "emergency_model", *KINDS, "threat_and_now", "question", "length")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.asarray(np.log(p / (1 - p)))


def design(
    texts: list[str], p_contact: np.ndarray, p_emergency: np.ndarray, hits: list[dict[str, Any]]
) -> np.ndarray:
    """One row a message: the two heads' logits, then the cue flags (see NAMES)."""
    x = np.zeros((len(texts), len(NAMES)))
    x[:, 0] = _logit(p_contact)
    x[:, 1] = _logit(p_emergency)
    for i, (text, found) in enumerate(zip(texts, hits, strict=True)):
        for k, kind in enumerate(KINDS):
            x[i, 2 + k] = kind in found
        x[i, 2 + len(KINDS)] = "threat" in found and "now" in found
        x[i, 3 + len(KINDS)] = "?" in text
        x[i, 4 + len(KINDS)] = min(len(text), 400) / 400
    return x


@dataclass(frozen=True)
class AlertCheck:
    coef: tuple[float, ...]
    intercept: float
    threshold: float

    @classmethod
    def from_meta(cls, meta: dict[str, Any] | None) -> AlertCheck | None:
        if not meta or tuple(meta.get("names", ())) != NAMES:
            return None
        return cls(tuple(meta["coef"]), float(meta["intercept"]), float(meta["threshold"]))

    def to_meta(self) -> dict[str, Any]:
        return {
            "names": list(NAMES),
            "coef": [round(c, 6) for c in self.coef],
            "intercept": round(self.intercept, 6),
            "threshold": round(self.threshold, 6),
        }

    def proba(self, x: np.ndarray) -> np.ndarray:
        z = x @ np.asarray(self.coef) + self.intercept
        return np.asarray(1 / (1 + np.exp(-z)))

    def alerts(self, x: np.ndarray) -> np.ndarray:
        return self.proba(x) >= self.threshold

    @classmethod
    def fit(cls, x: np.ndarray, emergency: np.ndarray, seed: int) -> AlertCheck:
        """Fit on out-of-fold head scores; the threshold from the check's own out-of-fold
        readings keeps RECALL_FLOOR of the emergencies."""

        def model() -> LogisticRegression:
            return LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced")

        oof = np.zeros(len(emergency))
        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
        for fit_idx, test_idx in folds.split(x, emergency):
            oof[test_idx] = (
                model().fit(x[fit_idx], emergency[fit_idx]).predict_proba(x[test_idx])[:, 1]
            )
        scores = np.sort(oof[emergency])
        threshold = float(scores[int((1 - RECALL_FLOOR) * len(scores))]) if len(scores) else 0.5
        fitted = model().fit(x, emergency)
        return cls(tuple(float(c) for c in fitted.coef_[0]), float(fitted.intercept_[0]), threshold)


def hits_for(texts: list[str]) -> list[dict[str, signals.Hit]]:
    return [signals.find(t) for t in texts]
