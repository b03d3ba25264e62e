"""The language a message is in: the seven the desk must know, and no wild guesses."""

from __future__ import annotations

import pytest

from beatdesk.triage.language import detect, detect_many

REQUIRED = [
    ("en", "someone has smashed the window of my car on Station Road and taken the radio"),
    ("cy", "Mae rhywun wedi torri i mewn i'r siop ar y stryd fawr neithiwr, plîs helpwch"),
    ("pl", "Dzień dobry, ktoś ukradł mi rower spod bloku, co mam teraz zrobić?"),
    ("ur", "میرا بیٹا کل رات سے گھر نہیں آیا اور اس کا فون بند ہے، براہ کرم مدد کریں"),
    ("pa", "ਮੇਰਾ ਫ਼ੋਨ ਬੱਸ ਵਿੱਚ ਚੋਰੀ ਹੋ ਗਿਆ ਹੈ, ਮੈਂ ਕਿੱਥੇ ਰਿਪੋਰਟ ਕਰਾਂ?"),
    ("ro", "Bună ziua, cineva mi-a furat mașina din fața casei azi-noapte"),
    ("ar", "مرحبا، سرقت سيارتي من أمام المنزل الليلة الماضية، ماذا أفعل؟"),
]


@pytest.mark.parametrize(("code", "text"), REQUIRED, ids=[c for c, _ in REQUIRED])
def test_the_seven_languages_the_desk_must_know_are_told_apart(code: str, text: str) -> None:
    assert detect(text) == code


def test_short_latin_text_that_is_not_english_stays_undetermined() -> None:
    # "lmaooo" is not Haitian Creole, nor "ACAB" Luxembourgish.
    assert detect_many(["lmaooo", "ACAB", "🙏", ""]) == ["", "", "", ""]
    # Handles and emoji are not words: these were read as Galician, Romansh and Latin.
    assert detect_many(["@WestmerePolice oink oink 🐷", "Keystone cops 🤡🤡", "@WMP 🐷🐷🐷"]) == [
        "",
        "",
        "",
    ]


def test_text_a_network_mangled_is_read_not_refused() -> None:
    assert detect("Dzień dobry \ud800 ktoś ukradł mi rower spod bloku, co mam zrobić?") == "pl"
    # CLD2 refuses control bytes; the text is read without them.
    assert detect("someone stole my bike from outside the station last night\x00\x01") == "en"
