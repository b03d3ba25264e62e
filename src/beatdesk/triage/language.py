"""Which language a message is in, from CLD2 (pycld2: Google's Compact Language Detector 2,
Apache-2.0; its tables are compiled into the wheel, nothing is downloaded).

The desk needs at least English, Welsh, Polish, Urdu, Punjabi, Romanian and Arabic; CLD2
knows those and about 160 more. It was chosen over lingua (which the first version used)
on the police-contact seed set's language labels (1,686 messages): 98.3% right against
lingua's 95.8% (low-accuracy mode, 23 languages), at about 18 µs of CPU a message against
260 µs, which had been a third of the whole triage reading (MODELS.md, "Language").

Very short Latin-script texts that do not look English stay undetermined rather than
guessed ("lmaooo" is not Haitian Creole), and so do uncertain guesses outside the
languages commonly written to a UK force.
"""

from __future__ import annotations

import re
from typing import Any

import pycld2

# The languages a UK force most often hears from, beyond the seven required: a guess of
# one of these is kept even when CLD2 is unsure of it.
COMMON = frozenset(
    {
        "en", "cy", "pl", "ur", "pa", "ro", "ar",  # the seven the desk must know
        "bn", "zh", "fr", "de", "gu", "hi", "it", "lt", "fa", "pt", "ru", "so", "es",
        "ta", "tr", "uk", "ga", "gd", "lv", "bg", "sk", "cs", "hu", "ku", "ps", "ti",
    }
)  # fmt: skip
# CLD2 keeps a few old ISO 639-1 codes, and tags Chinese by script.
_RENAMED = {"iw": "he", "in": "id", "jw": "jv", "zh-Hant": "zh"}
_SHORT = 20
# Handles and links say nothing of the language ("@WestmerePolice oink oink" is not Galician).
_NOT_WORDS = re.compile(r"@\w[\w.@-]*|https?://\S+|www\.\S+", re.IGNORECASE)


def _cld2(text: str) -> tuple[bool, int, Any] | None:
    try:
        return pycld2.detect(text, isPlainText=True, bestEffort=True)  # type: ignore[no-any-return]
    except pycld2.error:
        return None


def detect(text: str) -> str:
    """The ISO 639-1 code of the text's language, or '' when it cannot be told."""
    text = _NOT_WORDS.sub(" ", text)
    clean = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates → '?'
    # CLD2 refuses control bytes: then it reads the text without them.
    found = _cld2(clean) or _cld2("".join(c for c in clean if c.isprintable() or c.isspace()))
    if found is None:
        return ""
    reliable, _, details = found
    code = _RENAMED.get(details[0][1], details[0][1])
    if code in ("un", "xx") or code.startswith("xx-"):
        return ""
    if code != "en":
        letters = "".join(c for c in text if c.isalpha() or c == " ").strip()  # no emoji
        if len(letters) < _SHORT and letters.isascii():
            return ""
    if not reliable and code not in COMMON:
        return ""
    return code


def detect_many(texts: list[str]) -> list[str]:
    """ISO 639-1 codes ('' when undetermined), one per text."""
    return [detect(text) for text in texts]
