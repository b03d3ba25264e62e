"""Which language a message is in, from lingua (its models ship inside the wheel).

The desk needs at least English, Welsh, Polish, Urdu, Punjabi, Romanian and Arabic; the
rest are languages commonly spoken in UK communities. Low-accuracy mode keeps it fast;
very short Latin-script texts that do not look English stay undetermined rather than
guessed.
"""

from __future__ import annotations

import functools

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

LANGUAGES = [
    Language.ENGLISH,
    Language.WELSH,
    Language.POLISH,
    Language.URDU,
    Language.PUNJABI,
    Language.ROMANIAN,
    Language.ARABIC,
    Language.BENGALI,
    Language.CHINESE,
    Language.FRENCH,
    Language.GERMAN,
    Language.GUJARATI,
    Language.HINDI,
    Language.ITALIAN,
    Language.LITHUANIAN,
    Language.PERSIAN,
    Language.PORTUGUESE,
    Language.RUSSIAN,
    Language.SOMALI,
    Language.SPANISH,
    Language.TAMIL,
    Language.TURKISH,
    Language.UKRAINIAN,
]
SUPPORTED = sorted(lang.iso_code_639_1.name.lower() for lang in LANGUAGES)
_SHORT = 20


@functools.cache
def detector() -> LanguageDetector:
    return (
        LanguageDetectorBuilder.from_languages(*LANGUAGES)
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )


def detect_many(texts: list[str]) -> list[str]:
    """ISO 639-1 codes ('' when undetermined), one per text."""
    found = detector().detect_languages_in_parallel_of(texts)
    codes = []
    for text, lang in zip(texts, found, strict=True):
        code = lang.iso_code_639_1.name.lower() if lang is not None else ""
        if code not in ("", "en") and len(text.strip()) < _SHORT and text.isascii():
            code = ""
        codes.append(code)
    return codes
