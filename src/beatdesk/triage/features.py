"""Text features shared by every triage model: one pass over the text, many linear heads.

Word 1–2-grams (scikit-learn's HashingVectorizer) and byte 3–5-grams hashed with numpy in
one vectorised sweep over a whole batch. Each task then applies its own IDF weights (only
for the features its training data saw twice or more) and its own linear head. Hashing
once per message is what keeps triage fast enough for a disorder-day surge.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize as l2_normalize

WORD_FEATURES = 2**20
CHAR_FEATURES = 2**20
N_FEATURES = WORD_FEATURES + CHAR_FEATURES
CHAR_NS = (3, 4, 5)

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w[\w.@-]*")
_SPACE = re.compile(r"\s+")
_FNV_PRIME = np.uint64(1099511628211)


def normalise(text: str) -> str:
    """Lower-case, entities decoded, links and handles replaced by placeholders (as OLID)."""
    text = html.unescape(text)
    text = _URL.sub(" url ", text)
    text = _MENTION.sub(" @user ", text)
    return _SPACE.sub(" ", text).strip().lower()


def text_key(text: str) -> int:
    """A 64-bit fingerprint of a text, used to refuse scoring a model on its training data."""
    digest = hashlib.blake2b(normalise(text).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


_WORDS = HashingVectorizer(
    n_features=WORD_FEATURES,
    ngram_range=(1, 2),
    alternate_sign=False,
    norm=None,
    lowercase=False,
    token_pattern=r"(?u)\b\w+\b|[!?]+",  # noqa: S106  (a regex, not a password)
    dtype=np.float32,
)


def _byte_ngrams(normalised: list[str]) -> sparse.csr_matrix:
    """Counts of hashed byte n-grams per text, for the whole batch at once."""
    encoded = [f" {t} ".encode() for t in normalised]
    lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
    buf = np.frombuffer(b"".join(encoded), dtype=np.uint8).astype(np.uint64)
    doc = np.repeat(np.arange(len(encoded), dtype=np.int64), lengths)
    rows, cols = [], []
    with np.errstate(over="ignore"):
        for n in CHAR_NS:
            m = len(buf) - n + 1
            if m <= 0:
                continue
            h = np.full(m, np.uint64(14695981039346656037 ^ n), dtype=np.uint64)
            for k in range(n):
                h = (h ^ buf[k : k + m]) * _FNV_PRIME
            inside = doc[:m] == doc[n - 1 : n - 1 + m]
            rows.append(doc[:m][inside])
            cols.append((h[inside] % np.uint64(CHAR_FEATURES)).astype(np.int64))
    if not rows:
        return sparse.csr_matrix((len(encoded), CHAR_FEATURES), dtype=np.float32)
    r, c = np.concatenate(rows), np.concatenate(cols)
    counts = sparse.coo_matrix(
        (np.ones(len(r), dtype=np.float32), (r, c)), shape=(len(encoded), CHAR_FEATURES)
    )
    return counts.tocsr()


_UNIGRAMS = HashingVectorizer(
    n_features=WORD_FEATURES, alternate_sign=False, norm=None, lowercase=True, dtype=np.float32
)
SPACES = ("all", "unigrams")


class FeatureSet:
    """The hashed counts of a batch of texts in each feature space, computed when asked.

    "all": word 1–2-grams and byte 3–5-grams of the normalised text (most tasks);
    "unigrams": plain word unigrams of the raw text (rumours: across events, simple
    features generalise better, as the held-out events showed).
    """

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self._cache: dict[str, sparse.csr_matrix] = {}
        # Head probabilities already read for this batch, by id of the head (Bundle.read).
        self.probas: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.texts)

    def get(self, space: str) -> sparse.csr_matrix:
        if space not in self._cache:
            self._cache[space] = _compute(space, self.texts)
        return self._cache[space]


def _compute(space: str, texts: list[str]) -> sparse.csr_matrix:
    if space == "unigrams":
        return _UNIGRAMS.transform(texts).tocsr()
    normalised = [normalise(t) for t in texts]
    words = _WORDS.transform(normalised)
    chars = _byte_ngrams(normalised)
    matrix = sparse.hstack([words, chars], format="csr", dtype=np.float32)
    matrix.sum_duplicates()
    return matrix


@dataclass
class Idf:
    """One task's inverse document frequencies, kept only for features seen min_df times."""

    index: np.ndarray  # sorted feature ids, int32
    weight: np.ndarray  # float32

    @classmethod
    def fit(cls, counts: sparse.csr_matrix, min_df: int = 2) -> Idf:
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        n = counts.shape[0]
        keep = np.flatnonzero(df >= min_df).astype(np.int32)
        weight = (np.log((1 + n) / (1 + df[keep])) + 1).astype(np.float32)
        return cls(keep, weight)

    def dense(self, n_features: int) -> np.ndarray:
        """The weights as one array over every feature (0 where unseen): a fast gather."""
        cached = self.__dict__.get("_dense")
        if cached is None or len(cached) != n_features:
            cached = np.zeros(n_features, dtype=np.float32)
            cached[self.index] = self.weight
            self.__dict__["_dense"] = cached
        return cached

    def transform(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """Sub-linear tf × idf, l2-normalised; features the task never saw weigh nothing."""
        x = counts.copy()
        x.data = ((1 + np.log(x.data)) * self.dense(counts.shape[1])[x.indices]).astype(np.float32)
        x.eliminate_zeros()
        return l2_normalize(x, copy=False)
