"""Clustering incoming posts into stories: online, single pass, in memory.

Each post is normalised (lower case, links, handles and the "RT @x:" prefix removed,
hashtags kept as their word), cut into word unigrams and bigrams without stop words, and
hashed (CRC-32, stable across processes). Terms are weighted by sub-linear tf × IDF from a
small shipped table (`data/idf.npz`, built from general crisis and social tweets, not from
PHEME) and the vector is l2-normalised.

A story keeps a centroid (the sum of its members' vectors, cut to its heaviest terms) and
is found through an inverted index of each story's top terms: a new post is compared
(cosine) only with the stories that share one of its own top terms, and joins the best if
it is similar enough, else starts a story. Exact near-duplicates (retweets, copy and paste)
are caught first by a fingerprint of the post's sorted terms. Stories quiet for longer than
the window leave the index.

Rumour candidates: a story is proposed once it is big enough, still growing, and its posts
ask, deny or hedge (the triage rumour signal, PHEME-trained, with the cue words).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import html
import math
import re
import zlib
from collections import Counter, deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from beatdesk.triage import signals
from beatdesk.triage.bundle import active_bundle

if TYPE_CHECKING:
    from beatdesk.triage.bundle import Bundle

IDF_PATH = Path(__file__).parent / "data" / "idf.npz"

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w[\w.@-]*")
_RT = re.compile(r"^\s*rt\b[^:]*:\s*", re.IGNORECASE)
_WORD = re.compile(r"#?\w+", re.UNICODE)
_STOP = (
    "a an and are as at be been but by for from had has have he her his i if in into is it its "
    "me my no not of on or our she so that the their them there they this to too up us was we "
    "were what when which who will with you your rt via amp just now"
)
STOPWORDS = frozenset(_STOP.split())


def normalise(text: str) -> str:
    """Lower case, entities decoded, without links, handles or a retweet prefix."""
    text = html.unescape(text)
    text = _RT.sub("", text)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    return text.lower()


def words(text: str) -> list[str]:
    """The content words of a post (hashtags as their word), in order."""
    out = []
    for token in _WORD.findall(normalise(text)):
        word = token.lstrip("#")
        if len(word) > 1 and word not in STOPWORDS and not word.isdigit():
            out.append(word)
    return out


def hashtags(text: str) -> list[str]:
    return sorted({t[1:].lower() for t in _WORD.findall(html.unescape(text)) if t[0] == "#"})


def terms(text: str) -> list[str]:
    """Word unigrams and bigrams."""
    ws = words(text)
    return ws + [f"{a} {b}" for a, b in zip(ws, ws[1:], strict=False)]


def term_hash(term: str) -> int:
    return zlib.crc32(term.encode("utf-8"))


def fingerprint(text: str) -> str:
    """The same for a post and its retweets, copies and re-orderings."""
    return _fingerprint(words(text))


def _fingerprint(ws: list[str]) -> str:
    joined = " ".join(sorted(set(ws)))
    return hashlib.blake2b(joined.encode("utf-8"), digest_size=8).hexdigest()


class Idf:
    """Inverse document frequencies by term hash; a term the table never saw is rare."""

    def __init__(self, hashes: np.ndarray, weights: np.ndarray, unseen: float) -> None:
        self.weights = dict(zip(hashes.tolist(), weights.tolist(), strict=True))
        self.unseen = unseen

    @classmethod
    def fit(cls, texts: Iterable[str], min_df: int = 3) -> Idf:
        df: Counter[int] = Counter()
        n = 0
        for text in texts:
            n += 1
            df.update({term_hash(t) for t in terms(text)})
        kept = sorted(h for h, c in df.items() if c >= min_df)
        counts = np.array([df[h] for h in kept], dtype=np.float64)
        weights = np.log((1 + n) / (1 + counts)) + 1
        return cls(np.array(kept, dtype=np.uint32), weights.astype(np.float32), math.log(1 + n) + 1)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        hashes = np.fromiter(self.weights.keys(), dtype=np.uint32)
        weights = np.fromiter(self.weights.values(), dtype=np.float32)
        np.savez_compressed(path, hashes=hashes, weights=weights, unseen=np.float32(self.unseen))

    def __getitem__(self, h: int) -> float:
        return self.weights.get(h, self.unseen)


@cache
def shipped_idf() -> Idf:
    data = np.load(IDF_PATH)
    return Idf(data["hashes"], data["weights"], float(data["unseen"]))


BIGRAM_WEIGHT = 0.7


def vector(text: str, idf: Idf) -> dict[int, float]:
    """Sub-linear tf × idf over hashed unigrams and (down-weighted) bigrams, l2-normalised."""
    return _vector(words(text), idf)


def _vector(ws: list[str], idf: Idf) -> dict[int, float]:
    counts: Counter[int] = Counter(term_hash(w) for w in ws)
    bigrams: Counter[int] = Counter(term_hash(f"{a} {b}") for a, b in zip(ws, ws[1:], strict=False))
    vec = {h: (1 + math.log(c)) * idf[h] for h, c in counts.items()}
    for h, c in bigrams.items():
        vec[h] = vec.get(h, 0.0) + BIGRAM_WEIGHT * (1 + math.log(c)) * idf[h]
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {h: v / norm for h, v in vec.items()} if norm else {}


@dataclass
class Post:
    """One incoming post, as the engine needs it."""

    key: Hashable
    text: str
    at: dt.datetime
    network: str = ""
    language: str = ""
    rumour_score: float = 0.0
    cues: int = 0


@dataclass
class StoryState:
    """A story as the engine holds it while it is active."""

    id: Hashable
    first_seen: dt.datetime
    last_seen: dt.datetime
    centroid: dict[int, float] = field(default_factory=dict)
    size: int = 0
    networks: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    phrasings: dict[str, list] = field(default_factory=dict)  # fingerprint -> [text, count]
    rumour_total: float = 0.0
    cue_posts: int = 0
    recent: deque[dt.datetime] = field(default_factory=deque)
    candidate_since: dt.datetime | None = None
    norm: float = 0.0
    index_terms: tuple[int, ...] = ()
    changed: bool = True
    updated_at: dt.datetime | None = None  # the stored row's, when it came from the database

    @property
    def rumour_score(self) -> float:
        return self.rumour_total / self.size if self.size else 0.0

    def top_phrasings(self, n: int = 5) -> list[tuple[str, str, int]]:
        best = heapq.nlargest(n, self.phrasings.items(), key=lambda kv: kv[1][1])
        return [(fp, text, count) for fp, (text, count) in best]


@dataclass(frozen=True)
class Tuning:
    """The engine's settings; chosen on the tuning events (see EVALUATION.md)."""

    threshold: float = 0.3  # cosine to join a story
    window: dt.timedelta = dt.timedelta(hours=6)  # a story quiet this long leaves the index
    centroid_terms: int = 60
    index_terms: int = 10
    query_terms: int = 8
    max_compared: int = 40
    # Rumour candidates
    min_size: int = 3
    growth_window: dt.timedelta = dt.timedelta(minutes=30)
    # Chosen on the six training events with each event scored by a rumour head that never
    # saw it (EVALUATION.md): there, growth carries most of what tells a rumour's story; the
    # head alone barely does, so its bar and the hedged share only keep out calm stories.
    min_recent: int = 3  # posts within the growth window: still spreading
    min_rumour_score: float = 0.32  # mean triage rumour signal of the members
    min_cue_share: float = 0.2  # or this share of members asking, denying or hedging


@dataclass
class Assignment:
    post: Post
    story: StoryState
    similarity: float
    created: bool


class StoryEngine:
    """The active stories of one scope (a force's inbox, or one operation)."""

    def __init__(self, idf: Idf | None = None, tuning: Tuning | None = None) -> None:
        self.idf = idf or shipped_idf()
        self.tuning = tuning or Tuning()
        self.stories: dict[Hashable, StoryState] = {}
        self.index: dict[int, set[Hashable]] = {}
        self.exact: dict[str, Hashable] = {}
        self._next_id = 0

    # --- state ------------------------------------------------------------------------------

    def load(self, story: StoryState) -> None:
        """Put a stored story (back) in the index (a worker picking up where others left)."""
        self.drop(story.id)
        story.norm = math.sqrt(sum(v * v for v in story.centroid.values()))
        story.changed = False
        self.stories[story.id] = story
        self._reindex(story)
        for fp in story.phrasings:
            self.exact.setdefault(fp, story.id)

    def drop(self, story_id: Hashable) -> None:
        """Take a story out of the engine (gone from the database, or about to be reloaded)."""
        story = self.stories.pop(story_id, None)
        if story is None:
            return
        for h in story.index_terms:
            self.index.get(h, set()).discard(story_id)
        for fp in story.phrasings:
            if self.exact.get(fp) == story_id:
                del self.exact[fp]

    def rekey(self, old: Hashable, new: Hashable) -> None:
        """A new story was stored: known by its database id from now on."""
        story = self.stories.pop(old)
        self.drop(new)
        story.id = new
        self.stories[new] = story
        for h in story.index_terms:
            ids = self.index.setdefault(h, set())
            ids.discard(old)
            ids.add(new)
        for fp in story.phrasings:
            if self.exact.get(fp) == old:
                self.exact[fp] = new

    def expire(self, before: dt.datetime) -> None:
        """Stories last seen before this time leave the index."""
        for story in [s for s in self.stories.values() if s.last_seen < before]:
            self.drop(story.id)

    # --- clustering -------------------------------------------------------------------------

    def add(self, post: Post) -> Assignment:
        ws = words(post.text)  # once: the fingerprint and the vector both start from them
        fp = _fingerprint(ws)
        vec = _vector(ws, self.idf)
        story_id = self.exact.get(fp)
        similarity = 1.0
        story = self.stories.get(story_id) if story_id is not None else None
        if story is None:
            story, similarity = self._nearest(vec)
        created = story is None
        if story is None:
            story = StoryState(id=self._new_id(), first_seen=post.at, last_seen=post.at)
            self.stories[story.id] = story
        self._join(story, post, vec, fp)
        return Assignment(post, story, similarity, created)

    def add_many(self, posts: Iterable[Post]) -> list[Assignment]:
        return [self.add(p) for p in posts]

    def _new_id(self) -> Hashable:
        # Negative: never a stored story's id (ints hash the same in every process).
        self._next_id += 1
        return -self._next_id

    def _nearest(self, vec: dict[int, float]) -> tuple[StoryState | None, float]:
        t = self.tuning
        query = heapq.nlargest(t.query_terms, vec.items(), key=lambda kv: kv[1])
        shared: Counter[Hashable] = Counter()
        for h, _ in query:
            for sid in self.index.get(h, ()):
                shared[sid] += 1
        best, best_sim = None, t.threshold
        for sid, _ in shared.most_common(t.max_compared):
            story = self.stories[sid]
            if not story.norm:
                continue
            c = story.centroid
            sim = sum(v * c.get(h, 0.0) for h, v in vec.items()) / story.norm
            if sim >= best_sim:
                best, best_sim = story, sim
        return best, (best_sim if best is not None else 0.0)

    def _join(self, story: StoryState, post: Post, vec: dict[int, float], fp: str) -> None:
        t = self.tuning
        c = story.centroid
        for h, v in vec.items():
            c[h] = c.get(h, 0.0) + v
        if len(c) > 2 * t.centroid_terms:
            story.centroid = c = dict(heapq.nlargest(t.centroid_terms, c.items(), key=_weight))
        story.norm = math.sqrt(sum(v * v for v in c.values()))
        story.size += 1
        story.first_seen = min(story.first_seen, post.at)
        story.last_seen = max(story.last_seen, post.at)
        if post.network:
            story.networks[post.network] += 1
        if post.language:
            story.languages[post.language] += 1
        phrasing = story.phrasings.get(fp)
        if phrasing is None:
            story.phrasings[fp] = [post.text[:500], 1]
            self.exact.setdefault(fp, story.id)
            if len(story.phrasings) > 40:  # keep the told-most ways
                story.phrasings = dict(
                    heapq.nlargest(20, story.phrasings.items(), key=lambda kv: kv[1][1])
                )
        else:
            phrasing[1] += 1
        story.rumour_total += post.rumour_score
        story.cue_posts += 1 if post.cues else 0
        story.recent.append(post.at)
        while story.recent and story.recent[0] < story.last_seen - 2 * t.growth_window:
            story.recent.popleft()
        story.changed = True
        self._reindex(story)
        if story.candidate_since is None and self.is_candidate(story, post.at):
            story.candidate_since = post.at

    def _reindex(self, story: StoryState) -> None:
        top = tuple(
            h
            for h, _ in heapq.nlargest(self.tuning.index_terms, story.centroid.items(), key=_weight)
        )
        if top == story.index_terms:
            return
        for h in story.index_terms:
            self.index.get(h, set()).discard(story.id)
        for h in top:
            self.index.setdefault(h, set()).add(story.id)
        story.index_terms = top

    # --- growth and candidates --------------------------------------------------------------

    def growth(self, story: StoryState, at: dt.datetime) -> tuple[int, int]:
        """Posts in the last growth window, and in the one before it."""
        w = self.tuning.growth_window
        recent = sum(1 for t in story.recent if at - w < t <= at)
        before = sum(1 for t in story.recent if at - 2 * w < t <= at - w)
        return recent, before

    def is_candidate(self, story: StoryState, at: dt.datetime) -> bool:
        """Fast-growing, and told with questions, denials or uncertain wording."""
        t = self.tuning
        if story.size < t.min_size:
            return False
        recent, before = self.growth(story, at)
        if recent < t.min_recent or recent < before:
            return False
        hedged = story.cue_posts >= t.min_cue_share * story.size
        return story.rumour_score >= t.min_rumour_score or hedged


def _weight(kv: tuple[int, float]) -> float:
    return kv[1]


def rumour_signal(texts: list[str], bundle: Bundle | None = None) -> list[tuple[float, int]]:
    """The triage rumour signal for posts that have not been through triage (watch posts):
    the PHEME-trained head weighted by the cue words, exactly as triage scores messages.
    bundle: the model to read with (`monitor eval --model`); the active one by default."""
    if not texts:
        return []
    bundle = bundle or active_bundle()
    head = bundle.heads["rumour"]
    p = head.proba(bundle.features(texts))[:, head.classes.index("rumour")]
    out = []
    for text, score in zip(texts, p, strict=True):
        cues = signals.rumour_cues(text)
        out.append((round(float(score) * (0.6 + 0.4 * min(cues, 2) / 2), 4), cues))
    return out
