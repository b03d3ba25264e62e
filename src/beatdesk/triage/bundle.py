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

from beatdesk.triage.encoder import adapter_of
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
        done = features.probas.get(id(self))  # read already with other heads (Bundle.read)
        if done is not None:
            return done
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
        return self.proba_from_scores(scores)

    def proba_from_scores(self, scores: np.ndarray) -> np.ndarray:
        if len(self.classes) == 2 and scores.shape[1] == 1:
            p = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - p, p])
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))


class FusedHeads:
    """Several heads over one feature space, read for a batch with two sparse × dense
    products.

    Head h scores (tf ⊙ idf_h) · coef_h / ‖tf ⊙ idf_h‖: its IDF weights fold into its
    coefficients, and its norm comes from tf² against its squared weights. The features any
    of the heads knows (a few hundred thousand of the two million hashed ones) get one
    dense row each, holding every head's folded coefficients; a batch's log-counts are
    computed once, moved onto those rows and multiplied in one pass, where the heads one
    by one would each redo the weighting and a sparse × sparse product. The same numbers
    as Head.proba, to float32 rounding; about 30 MB for the triage heads.
    """

    def __init__(self, heads: list[Head]) -> None:
        self.heads = heads
        n_features = heads[0].coef.shape[1]
        known = np.unique(np.concatenate([h.idf.index for h in heads]).astype(np.int64))
        self.position = np.full(n_features, -1, dtype=np.int32)
        self.position[known] = np.arange(len(known), dtype=np.int32)
        widths = [h.coef.shape[0] for h in heads]
        self.coef = np.zeros((len(known), sum(widths)), dtype=np.float32)
        self.squares = np.zeros((len(known), len(heads)), dtype=np.float32)
        self.columns = []
        first = 0
        for k, (head, width) in enumerate(zip(heads, widths, strict=True)):
            weights = head.idf.dense(n_features)
            coef = head.coef.tocoo()
            rows = self.position[coef.col]
            if (rows < 0).any():
                raise ValueError("a head has coefficients for features its IDF never saw")
            self.coef[rows, first + coef.row] = coef.data * weights[coef.col]
            self.squares[self.position[head.idf.index], k] = head.idf.weight**2
            self.columns.append(slice(first, first + width))
            first += width

    def proba(self, counts: sparse.csr_matrix) -> list[np.ndarray]:
        rows = self.position[counts.indices]
        kept = rows >= 0
        indptr = np.concatenate([[0], np.cumsum(kept)])[counts.indptr]
        tf = sparse.csr_matrix(
            ((1 + np.log(counts.data[kept])).astype(np.float32), rows[kept], indptr),
            shape=(counts.shape[0], len(self.coef)),
        )
        raw = np.asarray(tf @ self.coef)
        tf.data **= 2
        norms = np.sqrt(np.asarray(tf @ self.squares))
        norms[norms == 0] = 1.0  # nothing the head knows: its intercept alone, as l2 leaves it
        return [
            head.proba_from_scores(raw[:, cols] / norms[:, [k]] + head.intercept)
            for k, (head, cols) in enumerate(zip(self.heads, self.columns, strict=True))
        ]


@dataclass
class Bundle:
    heads: dict[str, Head]
    trained_keys: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def features(texts: list[str]) -> FeatureSet:
        return FeatureSet(texts)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_fused", None)  # made again on first use
        return state

    def read(self, features: FeatureSet, names: list[str]) -> dict[str, np.ndarray]:
        """These heads' probabilities for the batch, those sharing a feature space at once;
        later `Head.proba` calls on the same features reuse them."""
        by_space: dict[str, list[str]] = {}
        for name in names:
            by_space.setdefault(self.heads[name].space, []).append(name)
        out: dict[str, np.ndarray] = {}
        for space, group in by_space.items():
            key = tuple(id(self.heads[n]) for n in group)  # a replaced head is fused afresh
            fused = self.__dict__.setdefault("_fused", {}).get(key)
            if fused is None:
                fused = self.__dict__["_fused"][key] = FusedHeads([self.heads[n] for n in group])
            for name, p in zip(group, fused.proba(features.get(space)), strict=True):
                out[name] = features.probas[id(self.heads[name])] = p
        return out

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
    adapter = adapter_of(bundle.meta)
    if adapter is not None:
        adapter.origin = path  # its ONNX export sits beside this file
    return bundle
