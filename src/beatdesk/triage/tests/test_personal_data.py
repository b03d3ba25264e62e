"""Personal data finder: each kind, the tricky negatives, offsets, overlap and redaction."""

from __future__ import annotations

import dataclasses

import pytest

from beatdesk.triage.personal_data import KINDS, Span, find_personal_data, redact


def found(text: str) -> list[tuple[str, str]]:
    return [(span.kind, span.value) for span in find_personal_data(text)]


def values(text: str, kind: str) -> list[str]:
    return [span.value for span in find_personal_data(text) if span.kind == kind]


# --- phone -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("call me on 07700 900123 please", "07700 900123"),
        ("07700900123", "07700900123"),
        ("my mobile is +44 7700 900123.", "+44 7700 900123"),
        ("ring (0121) 496 0000 after six", "(0121) 496 0000"),
        ("ring 0121 496 0000 after six", "0121 496 0000"),
        ("the office is 020 7946 0000", "020 7946 0000"),
        ("landline 01632 960123", "01632 960123"),
        ("+44 (0) 7700 900123 any time", "+44 (0) 7700 900123"),
        ("text 07700-900-123", "07700-900-123"),
        ("Tel.: 0121-496-0000", "0121-496-0000"),
        ("en France: +33 6 12 34 56 78", "+33 6 12 34 56 78"),
    ],
)
def test_uk_phone_numbers_in_common_writings_are_found(text: str, number: str) -> None:
    assert found(text) == [("phone", number)]


@pytest.mark.parametrize(
    "text",
    [
        "tel 07911 123456/07911 123457",
        "tel 07911 123456 07911 123457",  # phonenumbers alone splits these into fragments
    ],
)
def test_two_numbers_next_to_each_other_are_both_found(text: str) -> None:
    assert values(text, "phone") == ["07911 123456", "07911 123457"]


@pytest.mark.parametrize(
    "text",
    [
        "ring 101 or 999 in an emergency",
        "crime ref CR/12345/24 and 43/123456/24",
        "incident 20/07123456/24 logged",
        "it happened in 2024, not 1985",
        "ref ending 7731",
        "open 0900-1700 weekdays, 10:30-11:45 on Saturdays",
        "£1,000,000 of damage",
        "Crimestoppers anonymously on 0800 555 111",
        "Action Fraud 0300 123 2040",
        "07700 900",  # too short to be a full number
    ],
)
def test_short_numbers_references_years_and_public_lines_are_not_phones(text: str) -> None:
    assert values(text, "phone") == []


# --- email -----------------------------------------------------------------------------------


def test_email_addresses_are_found_without_trailing_punctuation() -> None:
    text = "email jake.smith+test@example.co.uk or J_O'Neil@mail.example.com."
    assert values(text, "email") == ["jake.smith+test@example.co.uk", "J_O'Neil@mail.example.com"]


def test_a_fediverse_handle_and_a_bare_at_are_not_emails() -> None:
    assert values("@westmerepolice@social.police.example any news?", "email") == []
    assert values("meet @ 5 by the clock, @WMP_DudleyRd", "email") == []


# --- postcode --------------------------------------------------------------------------------


@pytest.mark.parametrize("postcode", ["B15 2TT", "SW1A 1AA", "wm4 2ab", "B152TT", "M1 1AE"])
def test_full_postcodes_are_found_in_any_case_and_spacing(postcode: str) -> None:
    assert found(f"I live at {postcode}, near the park") == [("postcode", postcode)]


@pytest.mark.parametrize(
    "text",
    [
        "the WM4 area is busy tonight",
        "B15 team are out on patrol",
        "take the m5 2nd exit",
        "wb4 2day",
        "AB15 2TTX",
    ],
)
def test_districts_alone_and_lookalikes_are_not_postcodes(text: str) -> None:
    assert values(text, "postcode") == []


# --- vehicle registration --------------------------------------------------------------------


@pytest.mark.parametrize("plate", ["AB12 CDE", "AB12CDE", "A123 BCD", "ABC 123D", "ABC123D"])
def test_upper_case_plates_in_all_three_styles_are_found(plate: str) -> None:
    assert found(f"a silver Corsa, {plate}, was outside") == [("vehicle_registration", plate)]


@pytest.mark.parametrize("text", ["reg ab12 cde", "the number plate was ab12cde", "vrm: a123 bcd"])
def test_lower_case_plates_need_a_reg_or_plate_word_nearby(text: str) -> None:
    assert len(values(text, "vehicle_registration")) == 1


@pytest.mark.parametrize(
    "text",
    [
        "i saw ab12 cde outside",
        "THE 3D MOVIE WAS GOOD",
        "GOT 4G NOW",
        "on the M6 BUS lane",
        "A4 size paper",
    ],
)
def test_ordinary_text_is_not_a_plate(text: str) -> None:
    assert values(text, "vehicle_registration") == []


def test_a_common_word_plate_is_found_when_the_message_says_reg() -> None:
    assert values("reg was THE 3D", "vehicle_registration") == ["THE 3D"]


# --- date of birth ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("DOB 12/03/1985", "12/03/1985"),
        ("d.o.b. 12.3.85", "12.3.85"),
        ("he was born on 4th May 1990", "4th May 1990"),
        ("born on the 4th of May 1990 in Dudley", "4th of May 1990"),
        ("date of birth: 1990-05-04", "1990-05-04"),
        ("Jake (DOB: 01-02-2010) is missing", "01-02-2010"),
        ("Jake, 12/03/2010 (DOB), is missing", "12/03/2010"),
        ("Date Of Birth - May 4th, 1990", "May 4th, 1990"),
    ],
)
def test_dates_with_birth_context_are_dates_of_birth(text: str, date: str) -> None:
    assert values(text, "date_of_birth") == [date]


@pytest.mark.parametrize(
    "text",
    [
        "my son is aged 15",
        "she is 15 years old",
        "15yo lad on a bike",
        "meeting on 12/03/2024 at 10:30",
        "closed from 4th May 1990 to 2001",
        "born in 1990",  # a year alone is not a date
        "DOB 45/13/1985",  # not a real date
        "Adobe 12/03/1985 licence",
    ],
)
def test_ages_and_dates_without_birth_context_are_not_dates_of_birth(text: str) -> None:
    assert values(text, "date_of_birth") == []


# --- address ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("he lives at 14 Dudley Road now", "14 Dudley Road"),
        ("flat 3, 22 Lock St", "flat 3, 22 Lock St"),
        ("flat 3 22 Lock St", "flat 3 22 Lock St"),
        ("it's no. 7 Park Lane", "no. 7 Park Lane"),
        ("at number 12 Laurel Drive", "number 12 Laurel Drive"),
        ("neighbour screaming, flat 6 Harbour Court", "flat 6 Harbour Court"),
        ("come to 14a Church Hill Road", "14a Church Hill Road"),
        ("7 St Mary's Road, Dudley", "7 St Mary's Road"),
        ("he lives at 14 dudley road", "14 dudley road"),
        ("12 Rowan Way. he's not allowed near me", "12 Rowan Way"),
    ],
)
def test_house_number_and_street_is_an_address(text: str, address: str) -> None:
    assert values(text, "address") == [address]


@pytest.mark.parametrize(
    "text",
    [
        "outside the Spar on Dudley Rd",
        "outside Tesco on High St",
        "I love Dudley Road",
        "we walked 5 miles down the road",
        "it was a 10 minute walk",
        "3 lads down the road",
        "Services 14 and 22 are diverted via Lock Street",
        "closed 16 to 20 March. The road will reopen",
        "cost me £5 Park Lane parking",
        "it's a 2 Way Street",
        "a 5 Star Place to eat",
    ],
)
def test_streets_without_house_numbers_and_distances_are_not_addresses(text: str) -> None:
    assert values(text, "address") == []


# --- name ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Mr Smith and Mrs. Jane Doe saw Dr Patel", ["Smith", "Jane Doe", "Patel"]),
        ("PC Jones, PCSO Patel and Sgt Hughes attended", ["Jones", "Patel", "Hughes"]),
        ("thanks to DC Shah and Insp O'Brien", ["Shah", "O'Brien"]),
        ("PC 1234 Jones and Mr J. Smith", ["Jones", "J. Smith"]),
        ("my son Jake is missing", ["Jake"]),
        ("My daughter Amy Lee has not come home", ["Amy Lee"]),
        ("my sister's boyfriend Dean keeps turning up", ["Dean"]),
        ("my son Jake's bike was taken", ["Jake"]),
        ("his name is Tom Baker", ["Tom Baker"]),
        ("a girl called Kayleigh", ["Kayleigh"]),
        ("Hi, I'm Sarah and my bike was stolen", ["Sarah"]),
        ("my name is Daniel Price", ["Daniel Price"]),
        ("Name: Sarah Jones", ["Sarah Jones"]),
        ("Jake Smith, aged 15, was last seen", ["Jake Smith"]),
        ("Jake Smith (15) was last seen", ["Jake Smith"]),
        ("Missing Jake, 15, from Dudley", ["Jake"]),
        ("Jake Smith who is 15 was last seen", ["Jake Smith"]),
        ("my son José García is missing", ["José García"]),
    ],
)
def test_names_after_titles_cues_and_ages_are_found(text: str, names: list[str]) -> None:
    assert values(text, "name") == names


@pytest.mark.parametrize(
    "text",
    [
        "I Am Legend is on tonight",
        "Jesus Christ what a mess",
        "Jesus Christ, aged 33",
        "I'm Absolutely Disgusted by this",
        "I'm Sorry but this is a joke",
        "I'M SARAH",
        "Police Called To Disturbance On High Street Tonight",
        "I called Police on Monday",
        "we called Tesco about it",
        "PC World had a sale",
        "Dr Who was on",
        "Drinking Dr Pepper at the Spar",
        "Mr Mr Mr",
        "my son is missing",
        "MY SON JAKE IS MISSING",
        "Dudley Road, 14, was closed",
        "Thanks to the officers who helped at the match on Saturday",
        "mr smith and my son jake",  # nothing capitalised: not enough to go on
    ],
)
def test_places_days_brands_titles_and_ordinary_words_are_not_names(text: str) -> None:
    assert values(text, "name") == []


# --- the whole message -----------------------------------------------------------------------

MESSAGES = [
    "My son Jake Smith, aged 15, hasn't come home. DOB 12/03/2010. Call 07700 900123 or "
    "jake.mum@example.com. We live at flat 3, 22 Lock St, B15 2TT. Car reg AB12 CDE.",
    "Fy mab Jake ar goll. Ffoniwch 07700 900123. Mój syn Kuba zaginął, tel. +44 7700 900456, "
    "kod B15 2TT. ابني مفقود 07700 900789 🙏🏽 my son José García",
    "call 0121 496 0000 Dudley Road police",
    "07700900123@example.com",
    "https://example.com/AB12CDE/07700900123?ref=B15%202TT look at this",
    "Mr Smith, 14 Dudley Road, WM4 2AB, 07700 900111, mr.smith@example.org",
    "",
    "   ",
    "😂😂😂",
]


@pytest.mark.parametrize("text", MESSAGES)
def test_spans_point_into_the_text_are_sorted_and_do_not_overlap(text: str) -> None:
    spans = find_personal_data(text)
    for span in spans:
        assert text[span.start : span.end] == span.value
        assert span.kind in KINDS
    for before, after in zip(spans, spans[1:], strict=False):
        assert before.end <= after.start


def test_a_message_with_every_kind() -> None:
    assert found(MESSAGES[0]) == [
        ("name", "Jake Smith"),
        ("date_of_birth", "12/03/2010"),
        ("phone", "07700 900123"),
        ("email", "jake.mum@example.com"),
        ("address", "flat 3, 22 Lock St"),
        ("postcode", "B15 2TT"),
        ("vehicle_registration", "AB12 CDE"),
    ]


def test_a_multilingual_message_keeps_offsets_across_scripts_and_emoji() -> None:
    text = MESSAGES[1]
    assert found(text) == [
        ("phone", "07700 900123"),
        ("phone", "+44 7700 900456"),
        ("postcode", "B15 2TT"),
        ("phone", "07700 900789"),
        ("name", "José García"),
    ]
    assert redact(text).endswith("ابني مفقود [phone] 🙏🏽 my son [name]")


def test_a_specific_kind_wins_over_an_overlapping_address() -> None:
    assert found(MESSAGES[2]) == [("phone", "0121 496 0000")]


def test_the_longer_span_wins_between_equally_specific_kinds() -> None:
    assert found(MESSAGES[3]) == [("email", "07700900123@example.com")]


def test_nothing_inside_a_link_is_flagged() -> None:
    assert found(MESSAGES[4]) == []


def test_text_with_an_expanding_lower_case_character_keeps_offsets() -> None:
    # "İ".lower() is two characters; offsets must still point at the original text.
    text = "İstanbul trip: call 07700 900123 or email ali@example.com"
    assert [text[s.start : s.end] for s in find_personal_data(text)] == [
        "07700 900123",
        "ali@example.com",
    ]


# --- redaction -------------------------------------------------------------------------------


def test_redact_replaces_each_span_with_its_kind() -> None:
    assert redact(MESSAGES[0]) == (
        "My son [name], aged 15, hasn't come home. DOB [date_of_birth]. Call [phone] or "
        "[email]. We live at [address], [postcode]. Car reg [vehicle_registration]."
    )


def test_redact_with_given_spans_only_replaces_those() -> None:
    text = "Mr Smith, 07700 900111"
    phones = [s for s in find_personal_data(text) if s.kind == "phone"]
    assert redact(text, phones) == "Mr Smith, [phone]"
    assert redact(text, []) == text


def test_redact_of_text_with_nothing_personal_is_unchanged() -> None:
    text = "Ring 101, or 999 in an emergency. Thanks to everyone at the match."
    assert redact(text) == text


def test_redact_refuses_spans_from_another_text() -> None:
    with pytest.raises(ValueError, match="does not match"):
        redact("call 07700 900123", [Span(0, 4, "phone", "nope")])
    with pytest.raises(ValueError, match="does not match"):
        redact("short", [Span(3, 1, "name", "")])


def test_redact_keeps_the_first_of_overlapping_given_spans() -> None:
    text = "Jake Smith"
    spans = [Span(0, 10, "name", "Jake Smith"), Span(5, 10, "name", "Smith")]
    assert redact(text, spans) == "[name]"


def test_span_is_frozen() -> None:
    span = Span(0, 4, "name", "Jake")
    with pytest.raises(dataclasses.FrozenInstanceError):
        span.start = 1  # type: ignore[misc]


# --- speed -----------------------------------------------------------------------------------


def test_pathological_input_stays_fast() -> None:
    # Long runs of what the patterns look for must not make the regexes backtrack for ages.
    texts = [
        "0 " * 20_000,
        "a@" * 20_000 + "b",
        "Mr " * 10_000,
        "14 " + "Dudley " * 10_000,
        "my son " * 10_000 + "Jake",
        "DOB " * 10_000,
    ]
    # Timings belong in benchmarks/; here it only has to finish and find nothing absurd.
    for text in texts:
        assert all(span.end - span.start < 200 for span in find_personal_data(text))
