"""Splitting a long post into a numbered thread, for the networks that have threads.

Each part ends " 1/3", " 2/3" …; parts break at the end of a sentence where one fits, else
between words, and only cut a word that is longer than a whole part. Lengths are counted the
way each network counts them (checks.count_characters).
"""

from __future__ import annotations

import re

from beatdesk.networks.registry import known
from beatdesk.publishing.checks import LIMITS, count_characters

MAX_PARTS = 25
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def needs_thread(text: str, network: str) -> bool:
    limit = LIMITS.get(network)
    return limit is not None and count_characters(text, network) > limit


def split_thread(text: str, network: str) -> list[str]:
    """The parts of `text` for `network`, numbered; one part (unnumbered) when it fits or the
    network has no threads. ValueError when it would take more than MAX_PARTS parts."""
    text = text.strip()
    threaded = known(network)
    if threaded is None or not threaded.can_thread or not needs_thread(text, network):
        return [text]
    limit = LIMITS[network]
    total = 2
    while True:
        parts = _pack(text, network, limit - len(f" {total}/{total}"))
        if len(parts) > MAX_PARTS:
            raise ValueError(
                f"too long even for a thread: more than {MAX_PARTS} posts on {network}"
            )
        if len(parts) <= total:
            return [f"{part} {number}/{len(parts)}" for number, part in enumerate(parts, 1)]
        total = len(parts)


def _pack(text: str, network: str, room: int) -> list[str]:
    """Greedy: as many whole sentences (then words) as fit in `room` per part."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        if count_characters(sentence, network) <= room:
            pieces.append(sentence)
        else:
            pieces.extend(_words(sentence, network, room))
    parts: list[str] = []
    current = ""
    for piece in pieces:
        joined = f"{current} {piece}" if current else piece
        if count_characters(joined, network) <= room:
            current = joined
        else:
            parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return [p for p in parts if p]


def _words(sentence: str, network: str, room: int) -> list[str]:
    pieces: list[str] = []
    for word in sentence.split():
        while count_characters(word, network) > room:
            cut = room
            while cut > 1 and count_characters(word[:cut], network) > room:
                cut -= 1
            pieces.append(word[:cut])
            word = word[cut:]
        pieces.append(word)
    return pieces
