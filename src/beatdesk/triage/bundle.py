"""The shipped triage models: shared hashed features, then per task IDF weights and a
linear head.

Stored as one compressed joblib file inside the package (made by `beatdesk triage train`,
see MODELS.md beside it); nothing is downloaded at run time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from scipy import sparse

from beatdesk.triage.features import FeatureSet, Idf

MODEL_DIR = Path(__file__).parent / "trained"
DEFAULT_BUNDLE = MODEL_DIR / "triage.joblib"


@dataclass
class Head:
    """One task: its IDF weights and a linear classifier, kept sparse to keep files small."""

    idf: Idf
    classes: list[str]
    coef: sparse.csr_matrix  # (n_classes, n_features), or (1, n_features) for two classes
    intercept: np.ndarray
    space: str = "all"

    @classmethod
    def from_sklearn(
        cls, idf: Idf, model: Any, n_features: int, space: str = "all", prune: float = 1e-3
    ) -> Head:
        """From a model fitted on the task's own columns (idf.index), back to all features."""
        compact = np.asarray(model.coef_, dtype=np.float32)
        rows = np.repeat(np.arange(compact.shape[0]), compact.shape[1])
        cols = np.tile(idf.index.astype(np.int64), compact.shape[0])
        coef = sparse.csr_matrix(
            (compact.ravel(), (rows, cols)), shape=(compact.shape[0], n_features)
        )
        coef.data[np.abs(coef.data) < prune] = 0
        coef.eliminate_zeros()
        classes = [str(c) for c in model.classes_]
        return cls(idf, classes, coef, model.intercept_.astype(np.float32), space)

    def __getstate__(self) -> dict[str, Any]:
        # Half precision on disk halves the package; scores change far below the 4th digit.
        state = dict(self.__dict__)
        state.pop("_coef_t", None)
        coef = self.coef.copy()
        state["coef"] = (coef.data.astype(np.float16), coef.indices, coef.indptr, coef.shape)
        state["idf"] = (self.idf.index, self.idf.weight.astype(np.float16))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        data, indices, indptr, shape = state["coef"]
        state["coef"] = sparse.csr_matrix((data.astype(np.float32), indices, indptr), shape=shape)
        index, weight = state["idf"]
        state["idf"] = Idf(index, weight.astype(np.float32))
        self.__dict__.update(state)

    def proba(self, features: FeatureSet) -> np.ndarray:
        return self.proba_from_counts(features.get(self.space))

    def predict(self, features: FeatureSet) -> list[str]:
        p = self.proba(features)
        return [self.classes[i] for i in p.argmax(axis=1)]

    def _transposed(self) -> sparse.csr_matrix:
        """coef.T as CSR, made once: scipy would otherwise convert it on every batch."""
        cached = self.__dict__.get("_coef_t")
        if cached is None:
            cached = self.__dict__["_coef_t"] = self.coef.T.tocsr()
        return cached

    def proba_from_counts(self, counts: sparse.csr_matrix) -> np.ndarray:
        features = self.idf.transform(counts)
        scores = np.asarray((features @ self._transposed()).todense()) + self.intercept
        if len(self.classes) == 2 and scores.shape[1] == 1:
            p = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - p, p])
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))


@dataclass
class Bundle:
    heads: dict[str, Head]
    trained_keys: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def features(texts: list[str]) -> FeatureSet:
        return FeatureSet(texts)

    def trained_on(self, task: str, keys: list[int]) -> np.ndarray:
        known = self.trained_keys.get(task)
        if known is None or not len(known):
            return np.zeros(len(keys), dtype=bool)
        return np.isin(np.asarray(keys, dtype=np.int64), known)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(self, path, compress=("zlib", 6))


class ModelMissing(FileNotFoundError):
    pass


def retrained_path() -> Path:
    """Where `beatdesk triage retrain` keeps this installation's own model."""
    from django.conf import settings

    return Path(settings.HOME) / "models" / "triage.joblib"


def active_path() -> Path:
    """This installation's retrained model if there is one, else the shipped one."""
    local = retrained_path()
    return local if local.exists() else DEFAULT_BUNDLE


def active_bundle() -> Bundle:
    return load_bundle(active_path())


@functools.cache
def load_bundle(path: Path = DEFAULT_BUNDLE) -> Bundle:
    if not path.exists():
        raise ModelMissing(f"no triage model at {path}: run `beatdesk triage train` first")
    bundle = joblib.load(path)
    if not isinstance(bundle, Bundle):
        raise ModelMissing(f"{path} is not a beatdesk triage model")
    return bundle
