"""The alert check: the last word on whether a message is graded 1 and alerts the desk.

A false alert costs the desk a look and, repeated, its trust in the red strip; a missed one
can cost a life. The check weighs the contact head's emergency probability, a head trained
on emergency against everything else, and the cue words of `signals` — those that point to
an emergency (threat-to-life words, happening now) and those that point away (thanks, the
past, lost property, a question about the law, a joke, news, a complaint about a wait) — in
one logistic regression fitted on out-of-fold scores of the training part, whose weights
may push only the way their cue points (POINTS_TO_ALERT, POINTS_AWAY). Its threshold is
the highest that keeps `RECALL_FLOOR` of the training part's emergencies, judged on
out-of-fold readings of the check itself, so neither is chosen on text a head had seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize
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
# Which way each feature may push: the heads and the cues of danger only towards an alert,
# the cues that point away (the past, thanks, a joke, news …) only away from one, whatever
# quirk of the training data would say otherwise. None: either way.
POINTS_TO_ALERT = ("contact_model", "emergency_model", "threat", "now")
POINTS_AWAY = tuple(k for k in KINDS if k not in {"threat", "now", "vulnerable"})
# L2 penalty on the weights (the intercept is free), as LogisticRegression's C=1.
PENALTY = 0.5


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
        oof = np.zeros(len(emergency))
        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
        for fit_idx, test_idx in folds.split(x, emergency):
            coef, intercept = _fit_signed(x[fit_idx], emergency[fit_idx])
            oof[test_idx] = _sigmoid(x[test_idx] @ coef + intercept)
        scores = np.sort(oof[emergency])
        threshold = float(scores[int((1 - RECALL_FLOOR) * len(scores))]) if len(scores) else 0.5
        coef, intercept = _fit_signed(x, emergency)
        return cls(tuple(float(c) for c in coef), float(intercept), threshold)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1 / (1 + np.exp(-np.clip(z, -30, 30))))


def _fit_signed(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Class-weighted, L2-penalised logistic regression whose weights keep the signs that
    POINTS_TO_ALERT and POINTS_AWAY give them (L-BFGS-B with bounds)."""
    y = y.astype(np.float64)
    positives = max(y.sum(), 1.0)
    weight = np.where(y == 1, len(y) / (2 * positives), len(y) / (2 * max(len(y) - positives, 1)))
    bounds: list[tuple[float | None, float | None]] = []
    for name in NAMES:
        if name in POINTS_TO_ALERT:
            bounds.append((0.0, None))
        elif name in POINTS_AWAY:
            bounds.append((None, 0.0))
        else:
            bounds.append((None, None))
    bounds.append((None, None))  # the intercept

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:-1], params[-1]
        z = x @ w + b
        p = _sigmoid(z)
        nll = weight * (np.logaddexp(0, z) - y * z)
        grad_z = weight * (p - y)
        grad = np.concatenate([x.T @ grad_z + 2 * PENALTY * w, [grad_z.sum()]])
        return float(nll.sum() + PENALTY * w @ w), grad

    start = np.zeros(x.shape[1] + 1)
    result = optimize.minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
    return result.x[:-1], float(result.x[-1])


def hits_for(texts: list[str]) -> list[dict[str, signals.Hit]]:
    return [signals.find(t) for t in texts]
