"""How long a post is, the way each network counts it.

A network says how it counts in one `Counting` (its limit, what a link weighs, whether a
remote mention counts only its local part, X's weights); the desk asks the network, never
its kind. The pieces (start, end, weight) let the checks mark where a post runs over.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

Span = tuple[int, int]
Unit = tuple[int, int, int]

URL = re.compile(r"(?:https?://|www\.)[^\s<>\"]+[^\s<>\"'.,;:!?)\]]", re.IGNORECASE)
_REMOTE_MENTION = re.compile(r"(?<![\w@])(@\w+)@[\w-]+(?:\.[\w-]+)+")
# X counts most Latin, punctuation and symbols as 1 and everything else (CJK, emoji) as 2.
_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
EMOJI_RANGES = (
    (0x1F000, 0x1FAFF),
    (0x2600, 0x27BF),
    (0x2300, 0x23FF),
    (0x2B00, 0x2BFF),
)


def urls(text: str) -> list[Span]:
    return [m.span() for m in URL.finditer(text)]


def is_emoji(char: str) -> bool:
    point = ord(char)
    return any(low <= point <= high for low, high in EMOJI_RANGES)


def clusters(text: str) -> list[Span]:
    """Approximate grapheme clusters: combining marks, variation selectors, skin tones and
    zero-width-joined emoji add nothing to the character before them; flags are one."""
    found: list[Span] = []
    i, n = 0, len(text)
    while i < n:
        start = i
        first = text[i]
        i += 1
        if first == "\r" and text[i : i + 1] == "\n":
            i += 1
        elif 0x1F1E6 <= ord(first) <= 0x1F1FF and i < n and 0x1F1E6 <= ord(text[i]) <= 0x1F1FF:
            i += 1  # a flag: two regional indicators
        while i < n:
            char = text[i]
            point = ord(char)
            if (
                unicodedata.combining(char)
                or unicodedata.category(char) in ("Mn", "Me")
                or 0xFE00 <= point <= 0xFE0F
                or 0xE0100 <= point <= 0xE01EF
                or 0x1F3FB <= point <= 0x1F3FF  # skin tones
                or 0xE0020 <= point <= 0xE007F  # tag characters (subdivision flags)
            ):
                i += 1
            elif point == 0x200D:  # zero width joiner: the next character joins this one
                i += 2 if i + 1 < n else 1
            else:
                break
        found.append((start, i))
    return found


def _weight(cluster: str) -> int:
    if is_emoji(cluster[0]) and len(cluster) > 1:
        return 2  # an emoji sequence counts once
    return sum(1 if any(low <= ord(c) <= high for low, high in _LIGHT) else 2 for c in cluster)


def _overlaps(span: Span, others: list[Span]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in others)


@dataclass(frozen=True)
class Counting:
    """One network's way of counting a post, and how much it allows.

    `url_weight`: every link counts as this many characters, whatever its length;
    `local_mentions`: @user@instance counts only as @user; `weighted`: X's weights (most
    Latin 1, CJK and emoji 2); `code_units`: every character counts 1, graphemes or not."""

    limit: int | None = None
    url_weight: int | None = None
    local_mentions: bool = False
    weighted: bool = False
    code_units: bool = False

    def units(self, text: str) -> list[Unit]:
        """(start, end, weight) pieces of `text` as this network counts them."""
        if self.code_units:
            return [(i, i + 1, 1) for i in range(len(text))]
        fixed: list[Unit] = []
        if self.url_weight is not None:
            fixed = [(s, e, self.url_weight) for s, e in urls(text)]
        if self.local_mentions:
            fixed += [(m.start(), m.end(), len(m.group(1))) for m in _REMOTE_MENTION.finditer(text)]
            fixed = [u for u in fixed if not _overlaps(u[:2], [v[:2] for v in fixed if v is not u])]
        pieces: list[Unit] = []
        position = 0
        for start, end, weight in sorted(fixed):
            pieces += [(s + position, e + position, 1) for s, e in clusters(text[position:start])]
            pieces.append((start, end, weight))
            position = end
        pieces += [(s + position, e + position, 1) for s, e in clusters(text[position:])]
        if self.weighted:
            pieces = [(s, e, w if (s, e, w) in fixed else _weight(text[s:e])) for s, e, w in pieces]
        return pieces

    def count(self, text: str) -> int:
        return sum(w for _, _, w in self.units(text))


PLAIN = Counting()  # graphemes, no limit: a network that says nothing about length
