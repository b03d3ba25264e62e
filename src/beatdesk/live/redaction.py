"""Redacting an incident-log entry before it is published in a live-event stream.

A control room's log names callers, victims and suspects, gives house numbers, phone numbers
and number plates. What goes out says what happened and roughly where, and nothing that
identifies a person or a home:

* names go: after a role ("caller John Smith", "her son Jake", "a man named Dean") only the
  name goes ("caller", "her son", "a man"); otherwise the person becomes "a man", "a woman",
  "a person" or, for a ranked name ("PC 1234 Jones"), "an officer". An age attached to the
  name goes with it: "John Smith, 34," / "John Smith (34)" / "Jane Doe aged 71" /
  "34-year-old John Smith" -> "a man" / "a woman".
* phone numbers, email addresses, dates of birth, vehicle registrations and postcodes go,
  with the words that introduce them ("on", "tel", "DOB", "reg").
* addresses keep the street and lose the house: "14 Dudley Road" -> "Dudley Road",
  "Flat 3, 22 Mill Lane" -> "Mill Lane", "Rose Cottage, Mill Lane" -> "Mill Lane". The
  location column is cut to the neighbourhood: "14 Dudley Road, Kings Heath" -> "Kings Heath".

Detection is :mod:`beatdesk.triage.personal_data` (its spans) plus what an incident log needs
and a public message does not: role words a call taker writes before a name ("IP", "caller",
"informant"), common first names with a surname, names in capitals, and house names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from beatdesk.triage.personal_data import find_personal_data

__all__ = ["redact_location", "redact_text"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Common given names in England and Wales (ONS birth registrations across generations),
# for "John Smith reported ..." where nothing else says a name is coming.
_MALE = _words(
    """
aaron abdul adam adebayo adrian ahmed aiden alan albert alex alexander alfie ali andrew anthony
archie arjun arthur ashley barry ben benjamin bernard bilal billy bradley brian callum calum
carl charles charlie chris christopher colin connor craig damian daniel darren david dean declan
dennis derek dominic donald douglas dylan eddie edward elliot ethan finley francis freddie
gareth gary gavin geoffrey george gordon graham harrison harry harvey hassan henry ian ibrahim
imran isaac jack jacob jake james jamie jason jay jayden jeffrey jeremy jim jimmy joe joel john
jonathan jordan joseph josh joshua kai karl keith kevin kieran kyle lee leo leon lewis liam
logan louis luke malcolm marcus mark martin mason matthew michael mohammed mohammad muhammad
nathan neil nicholas nigel noah oliver oscar owen patrick paul peter philip ravi raymond reece
rhys richard robert roger ronald ross ryan sam samuel scott sean shane simon stanley stephen
steven stuart terry theo thomas tim timothy toby tom tommy tony trevor tyler usman vincent wayne
william zak zain amir anil chidi deepak hamza jaspreet kofi kwame marek omar piotr raj sunil
tomasz tunde yusuf
"""
)
_FEMALE = _words(
    """
abigail aisha alice alison amanda amber amelia amy andrea angela ann anna anne annie ava barbara
beatrice bethany beverley brenda caroline carol catherine charlotte chelsea chloe christine
claire clare dawn debbie deborah denise diane donna doreen dorothy eileen eleanor elizabeth ella
ellie emily emma erin eve evelyn fatima florence freya gemma georgia gillian grace hannah
harriet hayley heather helen holly imogen irene isabel isabella isla jade jane janet jasmine
jean jennifer jessica jill joan joanne josephine joyce julia julie karen kate katie kathleen
kelly kerry kim kirsty laura lauren leah lesley lily linda lisa lorraine louise lucy lydia
maisie margaret maria marie marion mary maureen megan melanie mia michelle molly monica natalie
nicola nicole niamh olivia paige pamela patricia paula pauline phoebe poppy priya rachel rebecca
rita rosie ruby ruth samantha sandra sarah shannon sharon sheila shirley sophia sophie stacey
stephanie susan suzanne sylvia tanya teresa tracey tracy valerie vanessa victoria wendy yasmin
yvonne zara zoe agnieszka aoife amina ciara gurpreet harpreet katarzyna nadia saima siobhan
zainab
"""
)
FIRST_NAMES = _MALE | _FEMALE

# Words a call taker writes just before a person's name.
_ROLE_CUES = _words(
    """
ip ips caller informant victim suspect offender complainant witness driver rider passenger
occupant resident owner landlord tenant neighbour neighbor subject misper male female man woman
boy girl lad youth teen teenager son daughter husband wife partner ex boyfriend girlfriend
mother father mum dad brother sister nan gran grandson granddaughter friend carer
"""
)
# Control-room words for a person that mean nothing to the public: they go with the name.
_JARGON = frozenset({"ip", "ips", "misper", "subject", "informant", "complainant"})
# Words that say a name follows and go with it: "a man named Dean" -> "a man".
_NAMING_CUES = re.compile(r"(?:,?\s*(?:named|called|known\s+as|name\s+of|aka)\s*:?\s*)$", re.I)
_TITLES = {
    "mr": "a man",
    "mrs": "a woman",
    "ms": "a woman",
    "miss": "a woman",
    "mx": "a person",
    "dr": "a person",
    "prof": "a person",
    "rev": "a person",
    "revd": "a person",
    "cllr": "a person",
    "sir": "a man",
    "dame": "a woman",
}
_RANKS = (
    r"PC|PCSO|Sgt|SGT|Sergeant|DC|DS|DI|DCI|DSI|DSU|Insp|Inspector|Ch\s?Insp|Chief\s+Inspector"
    r"|Supt|Superintendent|Ch\s?Supt|Constable|Officer"
)
_TITLE_BEFORE = re.compile(
    rf"(?<![\w])(?P<title>Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Rev|Revd|Cllr|{_RANKS})\.?\s+"
    r"(?:\d{1,5}\s+)?(?:[A-Z]\.?\s+){0,2}$",
    re.I,
)
_AGE_AFTER = re.compile(
    r"\s*(?:,\s*(?:aged?\s*)?\d{1,3}(?:\s*(?:years?|yrs?)(?:\s*old)?|\s*yo|\s*y/o)?(?=\s*[,.;:)]|\s*$|\s)"
    r",?|\s*\(\s*(?:aged?\s*)?\d{1,3}\s*(?:yrs?|years?)?\s*\)|,?\s+(?:who\s+is|aged?)\s+\d{1,3}"
    r"(?:\s*(?:years?|yrs?)(?:\s*old)?)?|,?\s+\d{1,3}\s*(?:years?|yrs?)\s+old"
    r"|[ \t]+\d{1,2}(?=[ \t]*[,.;:)]|[ \t]*$|[ \t]+[^\W\d]))",  # "IP JOHN SMITH 34 REPORTS"
    re.I,
)
_AGE_BEFORE = re.compile(r"(?:\b(?:a|an)\s+)?\b\d{1,3}[\s-]*(?:year|yr)s?[\s-]*old\s+$", re.I)
_NAME_WORD = (
    r"(?:[A-Z](?:['’][A-Z])?[a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z][a-z]+)?|[A-Z]{2,}(?:['’-][A-Z]+)?)"
)
_CAPITALISED = re.compile(rf"(?<![\w'’-]){_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}}(?![\w'’])")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)?")
_CUED_NAME = re.compile(
    r"(?<![\w-])(?:(?i:"
    + "|".join(sorted(_ROLE_CUES, key=len, reverse=True))
    + r")(?:['’]s)?|(?P<naming>(?i:named|called|known\s+as|name\s+of|aka))|(?P<age>\d{1,3}[\s-]*"
    r"(?i:years?|yrs?)[\s-]*(?i:old)))"
    r"\s*:?[ \t]+(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?[ \t]+)?"
    rf"(?P<name>{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}})(?![\w'’])"
)
_STREET_WORDS = _words(
    """
road rd street st avenue ave lane ln close cl drive dr way crescent cres court ct grove place pl
terrace tce gardens gdns hill walk row mews square sq park parade green rise view vale
"""
)
_NOT_A_SURNAME = _words(
    """
the and or but of on in at to for from by with was were is are has had have who which that then
said says told reported reports report states rang heard saw complains requests called arrested
detained found seen left went came attended stated states police officers officer ambulance fire
service hospital station road street lane avenue centre center park school shop store pub church
court house monday tuesday wednesday thursday friday saturday sunday january february march
april may june july august september october november december
"""
)
_HOUSE_WORDS = (
    r"Cottage|Cottages|House|Farm|Farmhouse|Lodge|Villa|Barn|Manor|Hall|Bungalow|Grange|Rectory"
    r"|Vicarage|Mill|Croft"
)
_HOUSE_NAME = re.compile(
    rf"(?<![\w])(?:The\s+)?(?:[A-Z][a-z'’]+\s+){{0,3}}(?:{_HOUSE_WORDS})\s*,\s*"
    rf"(?=(?:\d{{1,4}}[a-zA-Z]?\s+)?(?:[A-Z][a-z'’]+\s+){{1,3}}(?:Road|Rd|Street|St|Avenue|Ave|"
    r"Lane|Close|Drive|Way|Crescent|Court|Grove|Place|Terrace|Gardens|Hill|Walk|Row|Mews|Green))"
)
# What introduces a number, address or date that is removed: it goes with it.
_LEAD_INS = {
    "phone": r"(?:(?:from|on|tel(?:ephone)?|phone|mob(?:ile)?|contact(?:\s+number)?|number|no\.?)"
    r"\s*[:.]?\s*)+$",
    "email": r"(?:(?:e-?mail(?:\s+address)?|from|at|via)\s*[:.]?\s*)$",
    "date_of_birth": r"(?:(?:d\.?o\.?b\.?|date\s+of\s+birth|born(?:\s+on)?|birthday)"
    r"\s*[:.\-]?\s*)$",
    "vehicle_registration": r"(?:(?:reg(?:istration)?(?:\s+(?:no\.?|number|mark))?|vrm|index|"
    r"plates?|number\s*plate)\s*[:.]?\s*)$",
    "postcode": r"(?:(?:postcode|post\s+code)\s*[:.]?\s*)$",
}
_HOUSE_NUMBER = re.compile(
    r"^(?:(?:flat|apartment|apt\.?|unit|room|no\.?|number|num\.?)\s*\d{0,4}[a-z]?\s*,?\s*)*"
    r"\d{1,4}[a-z]?(?:\s?[-–]\s?\d{1,4}[a-z]?)?,?\s+",
    re.I,
)
_PRONOUN_MALE = re.compile(r"\b(?:he|him|his|male|man|boy|lad)\b", re.I)
_PRONOUN_FEMALE = re.compile(r"\b(?:she|her|hers|female|woman|girl)\b", re.I)


@dataclass
class _Cut:
    start: int
    end: int
    replacement: str


def _gender_of(name: str, context: str) -> str:
    first = name.split()[0].lower().strip(".")
    if first in _MALE:
        return "a man"
    if first in _FEMALE:
        return "a woman"
    male, female = _PRONOUN_MALE.search(context), _PRONOUN_FEMALE.search(context)
    if male and not female:
        return "a man"
    if female and not male:
        return "a woman"
    return "a person"


def _is_place(words: str, places: Iterable[str]) -> bool:
    low = words.lower()
    return any(low == p or low in p.split(", ") for p in places)


def _first_name_spans(text: str, places: Sequence[str]) -> Iterable[tuple[int, int]]:
    """A first name followed by a surname ("John Smith", "JOHN SMITH"), or a lone first name
    followed by an age ("Dean, 34")."""
    for m in _CAPITALISED.finditer(text):
        words = [(w.start(), w.end(), w.group()) for w in _WORD.finditer(text, m.start(), m.end())]
        for i, (start, end, word) in enumerate(words):
            if word.lower() not in FIRST_NAMES:
                continue
            rest = words[i + 1 :]
            if rest and rest[0][2].lower() in _STREET_WORDS | _NOT_A_SURNAME:
                break  # "Victoria Road", "Grace Church"
            surname = []
            for word_after in rest[: 1 if word.isupper() else 2]:  # shouted: one surname
                if word_after[2].lower() in _STREET_WORDS | _NOT_A_SURNAME:
                    break
                surname.append(word_after)
            if surname and not _is_place(text[start : surname[-1][1]], places):
                yield start, surname[-1][1]
            elif not rest and _AGE_AFTER.match(text, end):
                yield start, end
            break


def _cued_name_spans(text: str, places: Sequence[str]) -> Iterable[tuple[int, int]]:
    """Capitalised words straight after a role, an age or a naming cue: "IP Jane Doe",
    "caller Smith", "80-year-old Kwame Hughes", "a man named Dean"."""
    for m in _CUED_NAME.finditer(text):
        name_words = m.group("name").split()
        start = m.start("name")
        while name_words and name_words[0].lower().strip(".") in _ROLE_CUES | set(_TITLES):
            start = text.index(name_words[1], start) if len(name_words) > 1 else m.end()
            name_words = name_words[1:]  # "driver IP Jane Doe", "victim Mrs Jones"
        while name_words and name_words[-1].lower() in _NOT_A_SURNAME | _STREET_WORDS:
            name_words.pop()
        if not name_words or name_words[0].lower() in _NOT_A_SURNAME | _ROLE_CUES:
            continue
        shouted = m.group("name").isupper()
        if shouted and name_words[0].lower() not in FIRST_NAMES and m.group("naming") is None:
            continue  # "caller REPORTS" in a shouted log is not a name
        value = " ".join(name_words)
        if _is_place(value, places) or value.lower() in _TITLES:
            continue
        yield start, start + len(value)


def _name_cut(text: str, start: int, end: int) -> _Cut:
    name = text[start:end]
    before = text[:start]
    titled = _TITLE_BEFORE.search(before)
    if titled is not None:
        title = titled.group("title").lower()
        replacement = _TITLES.get(title, "an officer")
        start = titled.start()
        words = text[:start].split()
        if words and words[-1].lower().rstrip(":,") in _ROLE_CUES - _JARGON:
            replacement = ""  # "caller Mrs Khan reports" -> "caller reports"
        aged = _AGE_BEFORE.search(text[:start])
        if aged is not None and replacement != "an officer":
            start = aged.start()
    else:
        words = before.split()
        cue = words[-1].lower().rstrip(":,'’s") if words else ""
        naming = _NAMING_CUES.search(before)
        if naming is not None:
            start, replacement = naming.start(), ""
        elif cue in _JARGON:
            replacement = _gender_of(name, text)  # "IP Jane Doe" -> "a woman"
            start = before.rstrip().rfind(words[-1])
        elif cue in _ROLE_CUES:
            replacement = ""
        else:
            replacement = _gender_of(name, text)
            aged = _AGE_BEFORE.search(before)
            if aged is not None:
                start = aged.start()
    age = _AGE_AFTER.match(text, end)
    if age is not None:
        end = age.end()
    return _Cut(start, end, replacement)


def _lead_in(text: str, start: int, kind: str) -> int:
    pattern = _LEAD_INS.get(kind)
    if pattern is None:
        return start
    m = re.search(pattern, text[max(0, start - 40) : start], re.I)
    if m is None:
        return start
    return start - (len(text[max(0, start - 40) : start]) - m.start())


def _cuts(text: str, places: Sequence[str]) -> list[_Cut]:
    cuts: list[_Cut] = []
    names: list[tuple[int, int]] = []
    for span in find_personal_data(text):
        if span.kind == "name":
            names.append((span.start, span.end))
        elif span.kind == "address":
            number = _HOUSE_NUMBER.match(span.value)
            keep = span.value[number.end() :] if number else span.value
            cuts.append(_Cut(span.start, span.end, keep))
        else:
            start = _lead_in(text, span.start, span.kind)
            end = span.end
            if text[start - 1 : start] == "(" and text[end : end + 1] == ")":
                start, end = start - 1, end + 1
            cuts.append(_Cut(start, end, ""))
    names.extend(_first_name_spans(text, places))
    names.extend(_cued_name_spans(text, places))
    for start, end in _merge(names):
        if any(c.start <= start < c.end for c in cuts):
            continue
        cuts.append(_name_cut(text, start, end))
    for m in _HOUSE_NAME.finditer(text):
        cuts.append(_Cut(m.start(), m.end(), ""))
    return _without_overlaps(cuts)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _without_overlaps(cuts: list[_Cut]) -> list[_Cut]:
    kept: list[_Cut] = []
    for cut in sorted(cuts, key=lambda c: (c.start, -c.end)):
        if kept and cut.start < kept[-1].end:
            if cut.end > kept[-1].end:
                kept[-1] = _Cut(kept[-1].start, cut.end, kept[-1].replacement)
            continue
        kept.append(cut)
    return kept


_CONJUNCTION = re.compile(r"\s+(?:and|or|but)\b")
_TIDY = [
    (re.compile(r"\(\s*\)"), ""),
    (re.compile(r"[ \t]+([,.;:)])"), r"\1"),
    (re.compile(r"\(\s+"), "("),
    (re.compile(r",\s*,+"), ","),
    (re.compile(r",\s*([.;:)])"), r"\1"),
    (re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.? and an? (?:man|woman|person)\b"), "two people"),
    (re.compile(r"[ \t]{2,}"), " "),
    (re.compile(r"^[\s,;:]+|[\s,;:]+$"), ""),
    (re.compile(r"\b(a|an) (a|an) (man|woman|person)\b", re.I), r"\2 \3"),
]


def _tidy(text: str) -> str:
    for pattern, replacement in _TIDY:
        text = pattern.sub(replacement, text)
    return text


def redact_text(text: str, places: Sequence[str] = ()) -> str:
    """The entry's words with names, contact details, plates, dates of birth and house
    numbers removed (see the module docstring); places stay."""
    if not text.strip():
        return ""
    low_places = [p.lower() for p in places]
    parts: list[str] = []
    position = 0
    for cut in _cuts(text, low_places):
        before = text[position : cut.start]
        replacement = cut.replacement
        end = cut.end
        if not replacement and before.rstrip().endswith(",") and text[end : end + 1] == ",":
            end += 1  # "Mr Patel, DOB 12/03/1985, reported" -> "A man reported"
            before = before.rstrip()[:-1]
        elif not replacement and before.rstrip().endswith(",") and _CONJUNCTION.match(text, end):
            before = before.rstrip()[:-1]  # "two cars, reg AB12 CDE and a taxi"
        parts.append(before)
        if replacement.startswith(("a ", "an ")) and _starts_sentence(text, cut.start):
            replacement = replacement[0].upper() + replacement[1:]
        if parts[-1] and not parts[-1][-1].isspace() and replacement and parts[-1][-1] not in "(":
            parts.append(" ")
        parts.append(replacement)
        position = end
        if replacement and text[position : position + 1].isalnum():
            parts.append(" ")
    parts.append(text[position:])
    return _tidy("".join(parts))


def _starts_sentence(text: str, index: int) -> bool:
    before = text[:index].rstrip()
    return not before or before[-1] in ".!?"


def redact_location(location: str, places: Sequence[str] = ()) -> str:
    """The location cut to the neighbourhood: house numbers, house names and flats go; when
    a street is followed by a neighbourhood or town, only that stays."""
    redacted = redact_text(location, places)
    parts = [p.strip() for p in redacted.split(",") if p.strip()]
    while len(parts) > 1 and _is_street(parts[0]):
        parts.pop(0)
    return ", ".join(parts)


def _is_street(part: str) -> bool:
    words = part.lower().split()
    return len(words) > 1 and words[-1].strip(".") in _STREET_WORDS
