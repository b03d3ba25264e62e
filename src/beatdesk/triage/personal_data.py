"""Find personal data in short public messages, so the desk can highlight and redact it.

Used on inbound messages (to highlight and, later, redact before sharing or export) and on
outbound posts (to warn before publishing). Everything here is rules, no trained model:

* phone - UK numbers via ``phonenumbers`` (PhoneNumberMatcher, region GB, leniency POSSIBLE, so
  Ofcom's drama ranges such as 07700 900xxx still count) run only on phone-shaped stretches of
  the text, plus a UK-shape regex for what the matcher splits apart, then our own checks to drop
  references, times and public helplines. Other countries' numbers count only when written
  with their international prefix and valid.
* email, postcode (full postcodes only), vehicle_registration (current, prefix and suffix styles).
* date_of_birth - a date only when the words around it say it is a birth date.
* address - a house number and a street name ending in a street word ("14 Dudley Road").
* name - conservative cues only: a title or police rank, a relationship or introduction
  ("my son Jake", "my name is ..."), or a name followed by an age ("Jake Smith, 15").

Precision is preferred to recall for names and addresses: a false highlight costs an operator's
attention on every message, a missed one is still caught by the human reading it.
Offsets are ``str`` indices (code points), so they work unchanged for any script or emoji.
Cues and word lists are English only; other languages get the language-neutral kinds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain

from phonenumbers import (
    Leniency,
    NumberParseException,
    PhoneNumber,
    PhoneNumberMatcher,
    is_valid_number,
)
from phonenumbers import national_significant_number as _nsn
from phonenumbers import parse as parse_number

__all__ = ["KINDS", "Span", "find_personal_data", "redact"]


@dataclass(frozen=True)
class Span:
    start: int  # character offsets into the original text, text[start:end] == value
    end: int
    kind: str  # one of KINDS
    value: str


KINDS = ("name", "phone", "email", "address", "postcode", "vehicle_registration", "date_of_birth")

# Specific, self-describing patterns beat the fuzzy ones when they overlap, whatever their length.
_TIER = {
    "email": 0,
    "phone": 0,
    "date_of_birth": 0,
    "postcode": 0,
    "vehicle_registration": 0,
    "address": 1,
    "name": 2,
}

_Candidate = tuple[int, int, str]  # (start, end, kind)

# ---------------------------------------------------------------------------------------------
# Character classes. Python's re has no \p{Lu}, and names in a multilingual force area are not
# all ASCII (Zoë, Łukasz, Siobhán, Кирил), so upper/lower classes are built from Unicode data.


def _char_class(predicate: Callable[[str], bool]) -> str:
    ranges = chain(range(0x41, 0x250), range(0x370, 0x530))  # Latin incl. extended, Greek, Cyrillic
    return "[" + "".join(re.escape(c) for c in map(chr, ranges) if predicate(c)) + "]"


_UP = _char_class(str.isupper)
_LO = _char_class(str.islower)
# One capitalised name word: Jake, McDonald, O'Brien, Smith-Jones, Zoë. Never all capitals,
# because shouted text ("MY SON IS MISSING") would otherwise be full of names.
_TOKEN = rf"{_UP}(?:['’]{_UP})?{_LO}+(?:{_UP}{_LO}+)?(?:-{_UP}{_LO}+)?(?!\w)"
_SP = r"[^\S\r\n]"  # a name never continues onto the next line

# ---------------------------------------------------------------------------------------------
# Word lists. Lower-case; checked against each candidate name word.


def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


_DAYS_MONTHS = """
monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri
sat sun january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
"""

_NOT_NAME_WORDS = _words(
    _DAYS_MONTHS
    + """
mr mrs ms mx miss dr prof sir dame rev revd cllr pc pcso sgt sergeant insp inspector supt
superintendent detective chief
a an the and or but if so then than is are was were be been being am has have had do does did
not no yes he she it they we you i me him her them us my his their our your its this that these
those there here what who whom why when where how which all any some every each just only also
very too much many more most please thanks thank cheers hi hello hey dear sorry ok okay help
urgent missing stolen wanted appeal update news seen today tonight yesterday tomorrow now still
again last next new old big little good bad great happy sad fine well never always going gone
coming from with without at on in to for of off by about after before over under near outside
inside behind opposite up down out into onto via call called ring phone text email message
contact report reported police officer officers constable team station council nhs ambulance
fire service services force crimestoppers government court judge crown law said says say went
goes go get got done sick tired scared worried angry upset furious disgusted shocked stuck lost
home back ready sure glad pleased really trying looking calling writing reporting asking
absolutely totally literally honestly seriously officially definitely currently actually
unable able afraid alone alright aware fed glad mate bro sis son daughter mum mom mam dad
mother father brother sister husband wife partner boyfriend girlfriend friend nan gran grandad
grandma grandpa uncle aunt auntie cousin baby kid kids child children boy girl man woman lad
lads guy guys lady people neighbour neighbours someone somebody anyone anybody nobody everyone
god jesus christ allah lord heaven hell christmas easter eid ramadan diwali hanukkah legend
tesco asda aldi lidl sainsbury sainsburys morrisons waitrose greggs spar costa starbucks
mcdonalds kfc subway amazon ebay facebook twitter instagram tiktok whatsapp snapchat youtube
google apple samsung iphone android microsoft windows xbox playstation nintendo netflix uber
deliveroo nike adidas primark boots argos currys halfords poundland iceland lloyds barclays
natwest santander halifax nationwide vodafone virgin sky world comics martens games lite
pepper oetker gamer universe specialist
england scotland wales britain ireland europe london birmingham manchester liverpool leeds
dudley walsall wolverhampton coventry solihull sandwell bromwich stourbridge halesowen oldbury
smethwick tipton wednesbury bilston brierley midlands west east north south central city town
village centre center high road street lane avenue close drive way crescent court grove place
terrace gardens hill walk row mews square park estate retail shopping mall station hospital
school college university church mosque temple gurdwara synagogue pub bar club shop store
english british welsh scottish irish polish romanian indian pakistani bangladeshi muslim
christian jewish sikh hindu catholic
"""
)

# "my son Jake", "her little brother Tom", "my sister's boyfriend Dean"
_RELATIONS = _words(
    """
son daughter stepson step-son stepdaughter step-daughter child kid boy girl baby mum mom mam
mother dad father brother sister husband wife partner ex ex-partner boyfriend girlfriend bf gf
fiance fiancé fiancee fiancée friend mate pal neighbour neighbor nan nana nanna gran granny
grandma grandad grandpa grandson granddaughter grandchild uncle aunt auntie aunty cousin niece
nephew carer flatmate housemate colleague landlord landlady lodger tenant
"""
)
_RELATION_ADJECTIVES = _words(
    "little older younger eldest oldest youngest big baby best late new old ex step"
)
_POSSESSIVES = _words("my his her their our your")
_NAMING_WORDS = _words("named called aka name's name’s names")
_CUE_LAST_WORDS = _RELATIONS | _NAMING_WORDS | {"name", "is", "was", "as", "i'm", "i’m", "im", "am"}

# After "I'm X" a name is followed by punctuation or one of these; "I'm Absolutely Disgusted by"
# is not. Everything else in the message is free text, so this is the only cheap signal.
_AFTER_INTRO = _words("and from here i im i'm i’m my aged age mum dad")

# A quantity before a street word is a distance or a time, not a house number: "5 mins walk".
_UNIT_WORDS = _words(
    _DAYS_MONTHS
    + """
mile miles min mins minute minutes hour hours hr hrs day days week weeks month months year years
yr yrs yard yards metre metres meter meters m km foot feet ft time times people men women lads
kids cars houses doors streets roads lanes more other different lot lots bus buses
"""
)
# In all-lower-case text only whole street words count: "rd" and "st" are fine, but "cl", "way",
# "hill", "walk", "row", "court", "place", "close" are ordinary words too often.
_LOWER_CASE_STREET_WORDS = _words(
    "road rd street st avenue ave lane ln crescent terrace gardens gdns mews drive"
)
_LOWER_CASE_STOP_WORDS = _words(
    """
a an the and or but of on in at to for from by with down up along across round around off over
into onto near past via my your his her their our this that these those big little long short
main old new other same next last first second third few more some any every each all is are was
were be been being has have had do does did will would can could may might must shall should
"""
)

# Common 3-letter words that make "THE 3D", "GOT 4G", "M6 BUS" look like old-style plates
# in shouted text; a real plate with one of these still shows when "reg"/"plate" is nearby.
_PLATE_WORDS = _words(
    """
THE AND FOR ARE BUT NOT YOU ALL ANY CAN HAD HER WAS ONE OUR OUT DAY GET HAS HIM HIS HOW MAN NEW
NOW OLD SEE TWO WAY WHO BOY DID ITS LET PUT SAY SHE TOO USE GOT MEN RUN TOP BIG CAR VAN BUS
TAX OFF YES HAD AGO LOT SET FEW BAD MAD SAD HOT RED WON WIN BET FAN MUM DAD SON KID PUB BAR
"""
)

# Public services' numbers appear in the force's own posts and are not anyone's personal data.
_PUBLIC_NUMBERS = frozenset({"800555111", "3001232040"})  # Crimestoppers, Action Fraud

# ---------------------------------------------------------------------------------------------
# Compiled patterns.
#
# Speed: a pattern that opens with a rare character class (a digit, a capital, "@") lets the
# regex engine skip ahead cheaply; one that opens with a look-behind or IGNORECASE is tried at
# every position and is several times slower. So case-insensitive patterns run on a lower-cased
# copy of the text (same length, same offsets), patterns start on their rarest character, and
# word boundaries before that character are checked with a look-behind placed after it.

# Not after "@": "@desk@social.police.example" is a fediverse handle, not a mailbox.
_EMAIL = re.compile(r"(?<![\w.%+'@-])[\w.%+'-]{1,64}@(?:[\w-]{1,63}\.){1,8}[A-Za-z]{2,24}\b")
_URL = re.compile(r"(?:https?://|www\.)\S+")  # on lower-cased text

# A phone-shaped run: "07700 900123", "+44 (0) 7700 900123", "(0121) 496 0000". phonenumbers
# then decides; it costs ~50 µs on a whole message but far less on a 15-character window.
_PHONE_RUN = re.compile(r"[+(0](?<!\w[+(0])[\d \t().\-]{8,40}\d")
# phonenumbers splits "07700 900123 07700 900124" into fragments; inside a run, whole UK
# numbers (0 + 9 or 10 digits, or +44 / 0044 + 9 or 10) are then tried one by one.
_UK_NUMBER = re.compile(
    r"(?:(?:\+|00)44[ \t\-]{0,2}(?:\(0\)[ \t\-]{0,2})?|\(?0)\d(?:[ \t\-).]{0,2}\d){8,9}(?!\d)"
)

_POSTCODE = re.compile(  # on lower-cased text, starting at the outward code's digit
    r"\d(?:(?<=(?<![\w/])[a-pr-uwyz][a-hk-y]\d)(?P<two>)|(?<=(?<![\w/])[a-pr-uwyz]\d))"
    r"[a-z\d]?[^\S\r\n]?\d[abd-hjlnp-uw-z]{2}(?![\w/])"
)
_ORDINAL_ENDINGS = frozenset({"st", "nd", "rd", "th"})

_PLATE = re.compile(  # on lower-cased text, starting at the first digit
    r"\d(?:"
    r"(?<=(?<![\w/])[a-z]{2}\d)\d[^\S\r\n]?[a-z]{3}(?P<current>)"  # AB12 CDE
    r"|(?<=(?<![\w/])[a-z]\d)\d{0,2}[^\S\r\n]?[a-z]{3}(?P<prefix>)"  # A123 BCD
    r"|(?<=(?<![\w/])[a-z]{3}\d)\d{0,2}[a-z](?P<suffix>)"  # ABC123D
    r"|(?<=(?<![\w/])[a-z]{3}[^\S\r\n]\d)\d{0,2}[a-z](?P<suffix_spaced>)"  # ABC 123D
    r")(?![\w/])"
)
_PLATE_BACK = {"current": 2, "prefix": 1, "suffix": 3, "suffix_spaced": 4}
_PLATE_CONTEXT = re.compile(r"\b(?:reg|registration|plates?|vrm|index|numberplate)\b")

_STREET_WORDS = (
    r"road|rd|street|st|avenue|ave|lane|ln|close|cl|drive|dr|way|crescent|cres|court|ct|grove|"
    r"place|pl|terrace|tce|gardens|gdns|hill|walk|row|mews|square|sq"
)
_ADDRESS = re.compile(  # on lower-cased text, starting at the house number
    r"\d(?<![\w£$€:./,-]\d)\d{0,3}[a-z]?(?:[^\S\r\n]?[-–][^\S\r\n]?\d{1,4}[a-z]?)?,?[^\S\r\n]+"
    r"(?P<words>(?:[^\W\d_][\w'’.-]*[^\S\r\n]+){1,4}?)"
    rf"(?P<street>{_STREET_WORDS})(?:[^\S\r\n](?:{_STREET_WORDS}))?(?![\w'’])"  # Church Hill Road
)
# What may come just before the house number and belongs to the address: "flat 3, ", "no. ".
_ADDRESS_PREFIX = re.compile(
    r"(?<!\w)(?:(?:flat|apartment|apt\.?|unit|room)[^\S\r\n]*\d{1,4}[a-z]?[^\S\r\n]*,?[^\S\r\n]+)?"
    r"(?:(?:flat|apartment|apt\.?|unit|room|no\.?|number|num\.?)[^\S\r\n]*)?\Z"
)

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})"
    r"|\d{4}-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?(?:\s+of)?\s+{_MONTH}(?:,?\s+\d{{4}}|\s+'\d{{2}})?"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{4}})"
)
_DOB_WORDS = ("dob", "d.o.b", "birth", "born")
_DOB_LABEL = re.compile(  # on lower-cased text
    r"d\.?\s?o\.?\s?b\b\.?|date\s+of\s+birth\b|birth\s*date\b|birthday\b|born(?:\s+on)?\b"
)
# "DOB 12/03/1985", "born on the 4th of May 1990", "date of birth: 1990-05-04"
_DATE_AFTER_LABEL = re.compile(
    rf"(?:\s*[:=\-–—]\s*|\s+)(?:(?:is|was|on|of|the)\s+)*(?P<date>{_DATE})(?![\d/.\-]?\d)"
)
# "12/03/1985 (DOB)"
_DATE_BEFORE_LABEL = re.compile(rf"(?<![\d/.\-])(?P<date>{_DATE})\s*[(\[,-]?\s*\Z")
_NUMERIC_DATE = re.compile(r"(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})")
_DAY_NUMBER = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\b")

_NAME = re.compile(rf"{_TOKEN}(?:{_SP}+{_TOKEN})?")
_TITLE = re.compile(  # case-sensitive: "Dr" and "PC" are titles, "dr" and "pc" are not
    r"(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Sir|Dame|Rev|Revd|Cllr|MR|MRS|MS|DR"
    r"|PC|PCSO|Sgt|SGT|Sergeant|DC|DS|DI|DCI|DSI|DSU|Insp|Inspector|Ch[^\S\r\n]?Insp"
    r"|Chief[^\S\r\n]Inspector|Supt|Superintendent|Ch[^\S\r\n]?Supt|Constable)"
    rf"\.?{_SP}+(?:\d{{1,5}}{_SP}+)?"  # a collar number: "PC 1234 Jones"
    rf"(?P<name>(?:[A-Z]\.?{_SP}+){{0,2}}{_TOKEN}(?:{_SP}+{_TOKEN})?)"
)
# A capital after whitespace: where a name introduced by a cue ("my son Jake") can start.
_CAPITAL_AFTER_SPACE = re.compile(rf"{_UP}(?<=\s.)")
_AGED = re.compile(  # case-sensitive, starting at a capital
    rf"{_UP}(?<![\w'’-].){_TOKEN[len(_UP) :]}(?:{_SP}+{_TOKEN})?(?="
    rf"{_SP}*,{_SP}*aged?{_SP}*\d{{1,3}}\b"
    rf"|{_SP}*,{_SP}*\d{{1,2}}{_SP}*(?:[,.;)]|$|years?\b|yrs?\b|yo\b|y/o\b)"
    rf"|{_SP}*\({_SP}*\d{{1,3}}{_SP}*\)"
    rf"|,?{_SP}+(?:who{_SP}+is|who['’]s|aged?){_SP}+\d{{1,3}}\b"
    rf"|,?{_SP}+\d{{1,2}}{_SP}*(?:years?{_SP}+old|yrs?{_SP}+old|yo|y/o)\b)",
    re.MULTILINE,
)
# Cheap pre-check for _AGED: "(15", ", 15", "15 yrs", "15yo", "15)".
_AGE_HINT = re.compile(r"[\d,(](?:(?<=\d)[^\S\r\n]*[y)]|(?<=[,(])[^\S\r\n]*\d)")
_NEXT_WORD = re.compile(r"\s*([^\W\d_]+(?:['’][^\W\d_]+)?)?")
_WORD = re.compile(r"[^\W\d_]+")


# ---------------------------------------------------------------------------------------------
# Finders. Each yields candidates; overlap is resolved once, at the end. ``low`` is the text
# lower-cased with its length unchanged.


def _emails(text: str) -> Iterable[_Candidate]:
    for m in _EMAIL.finditer(text):
        yield m.start(), m.end(), "email"


def _phones(text: str) -> Iterable[_Candidate]:
    for run in _PHONE_RUN.finditer(text):
        offset, window = run.start(), run.group()
        if sum(map(window.count, "0123456789")) < 7:
            continue  # too short for any full number; spare the ~20 µs phonenumbers call
        if text[offset - 1 : offset] == "/" and text[run.end() : run.end() + 1] == "/":
            continue  # a reference such as "20/07123456/24"
        found: list[tuple[int, int]] = []
        # POSSIBLE leniency, because VALID rejects Ofcom's reserved fictional ranges; the checks
        # in _is_personal_number then throw out what POSSIBLE lets through.
        for match in PhoneNumberMatcher(window, "GB", leniency=Leniency.POSSIBLE):
            if _is_personal_number(match.raw_string, match.number):
                found.append((match.start, match.end))
        for m in _UK_NUMBER.finditer(window):
            if any(m.start() < e and s < m.end() for s, e in found):
                continue
            try:
                number = parse_number(m.group(), "GB")
            except NumberParseException:
                continue
            if _is_personal_number(m.group(), number):
                found.append((m.start(), m.end()))
        for start, end in found:
            yield offset + start, offset + end, "phone"


def _is_personal_number(raw: str, number: PhoneNumber) -> bool:
    if number.country_code != 44:
        # Another country's number counts only when written with its international prefix.
        return raw.startswith(("+", "00")) and is_valid_number(number)
    nsn = _nsn(number)
    return (
        raw.lstrip("( ").startswith(("0", "+"))  # "12345678" is a reference, not a number
        and 9 <= len(nsn) <= 10
        and nsn[0] in "123578"  # not premium rate (9), not a short code
        and nsn not in _PUBLIC_NUMBERS
    )


def _postcodes(text: str, low: str) -> Iterable[_Candidate]:
    for m in _POSTCODE.finditer(low):
        start = m.start() - (2 if m.group("two") is not None else 1)
        # "the m5 2nd exit": a lower-case inward code that reads as an ordinal is one.
        if low[m.end() - 2 : m.end()] in _ORDINAL_ENDINGS and not text[start : m.end()].isupper():
            continue
        yield start, m.end(), "postcode"


def _plates(text: str, low: str) -> Iterable[_Candidate]:
    for m in _PLATE.finditer(low):
        style = m.lastgroup or "current"
        start = m.start() - _PLATE_BACK[style]
        end = m.end()
        window = (max(0, start - 40), start)
        context = None
        if not text[start:end].isupper():
            # Lower case "ab12 cde" is only a plate when the message says so nearby.
            context = _PLATE_CONTEXT.search(low, *window)
            if context is None:
                continue
        if style != "current":
            letters = low[start : start + 3] if style.startswith("suffix") else low[end - 3 : end]
            common_word = letters.upper() in _PLATE_WORDS
            if common_word and context is None and _PLATE_CONTEXT.search(low, *window) is None:
                continue
        yield start, end, "vehicle_registration"


def _addresses(text: str, low: str) -> Iterable[_Candidate]:
    for m in _ADDRESS.finditer(low):
        words = text[m.start("words") : m.end("words")].split()
        street = m.group("street")
        if words[0].lower() in _UNIT_WORDS:
            continue  # "5 mins walk", "20 March. The road"
        if any(w[-1] == "." and w.lower() != "st." for w in words):
            continue  # a sentence ends between the number and the street word
        if not words[0][0].isupper():
            # "3 lads down the road", "22 are diverted via Lock Street": lower-case text needs
            # a real street word, and no ordinary or capitalised words on the way to it.
            if street not in _LOWER_CASE_STREET_WORDS or len(words) > 3:
                continue
            if any(w.lower() in _LOWER_CASE_STOP_WORDS or not w.islower() for w in words):
                continue
        start = m.start()
        if low[max(0, start - 4) : start].split()[-1:] in (["a"], ["an"]):
            continue  # "a 2 Way Street", "a 5 Star Place": a description, not a house number
        prefix = _ADDRESS_PREFIX.search(low, max(0, start - 30), start)
        if prefix is not None:
            start = prefix.start()
        yield start, m.end(), "address"


def _plausible_date(value: str) -> bool:
    numeric = _NUMERIC_DATE.fullmatch(value)
    if numeric is not None:
        first, month, last = numeric.groups()
        day = int(last) if len(first) == 4 else int(first)
        return 1 <= day <= 31 and 1 <= int(month) <= 12
    day_match = _DAY_NUMBER.search(value)
    if day_match is None:
        return True  # "May 1990": month and year only
    return 1 <= int(day_match.group(1)) <= 31


def _dates_of_birth(low: str) -> Iterable[_Candidate]:
    for label in _DOB_LABEL.finditer(low):
        if not _word_starts_at(low, label.start()):
            continue  # "adobe", "reborn"
        date = _DATE_AFTER_LABEL.match(low, label.end())
        if date is None:
            date = _DATE_BEFORE_LABEL.search(low, max(0, label.start() - 30), label.start())
        if date is not None and _plausible_date(date.group("date")):
            yield date.start("date"), date.end("date"), "date_of_birth"


def _is_ordinary(word: str) -> bool:
    return len(word) > 1 and word.lower() in _NOT_NAME_WORDS


def _name_words(value: str, start: int) -> tuple[int, int] | None:
    """Trim a candidate name to the words that may be a name; None if nothing is left.

    A leading ordinary word is dropped ("Missing Jake" -> "Jake"); a trailing one ends the
    name ("Jake Went" -> "Jake"); an ordinary word that isn't leading or trailing voids it.
    Single letters (initials) are never ordinary.
    """
    words = [(w.start(), w.end()) for w in _WORD.finditer(value)]
    keep = [not _is_ordinary(value[s:e]) for s, e in words]
    while keep and not keep[0]:
        words, keep = words[1:], keep[1:]
    while keep and not keep[-1]:
        words, keep = words[:-1], keep[:-1]
    if not words or not all(keep):
        return None
    return start + words[0][0], start + words[-1][1]


def _looks_like_headline(text: str) -> bool:
    # Title Case Headlines Capitalise Every Word, so capitals say nothing about names there.
    words = _WORD.findall(text)
    if len(words) < 5:
        return False
    return sum(1 for w in words if w[0].isupper()) >= 0.7 * len(words)


def _word_starts_at(text: str, index: int) -> bool:
    return index == 0 or not (text[index - 1].isalnum() or text[index - 1] in "_.")


def _ends_an_introduction(text: str, end: int) -> bool:
    rest = text[end : end + 1]
    if not rest or rest in "\r\n" or not rest.isalnum() and not rest.isspace():
        return True  # end of text, line or clause: "I'm Sarah, ..." / "I'm Sarah!"
    following = _NEXT_WORD.match(text, end)
    word = following.group(1) if following is not None else None
    return word is None or word.lower() in _AFTER_INTRO


def _cue_before(text: str, low: str, index: int) -> str | None:
    """Which cue, if any, ends just before ``index``: "relation", "naming" or "intro".

    Word-set lookups on the few words before each capital are much cheaper than a
    case-insensitive alternation scanned across the whole message.
    """
    words = low[max(0, index - 48) : index].rsplit(None, 3)
    if not words:
        return None
    last = words[-1].rstrip(":,")
    if last not in _CUE_LAST_WORDS:
        return None  # the common case: "the", "to", "Hello." ...
    previous = words[-2] if len(words) > 1 else ""
    if last in _RELATIONS:
        if previous in _RELATION_ADJECTIVES and len(words) > 2:
            previous = words[-3]
        if previous in _POSSESSIVES or previous.endswith(("'s", "’s")):
            return "relation"
        return None
    if last in _NAMING_WORDS or (last in ("is", "was") and previous == "name"):
        return "naming"
    if last == "as" and previous == "known":
        return "naming"
    if last == "name" and words[-1].endswith(":"):
        return "naming"  # "Name: Sarah Jones"
    if last in ("i'm", "i’m", "im") or (last == "am" and previous == "i"):
        # "I Am Legend", "I'M": a title or shouting, not an introduction.
        original = text[max(0, index - 48) : index].split()[-1].rstrip(":,")
        return "intro" if original[1:] == last[1:] else None
    return None


def _names(text: str, low: str, has_digit: bool) -> Iterable[_Candidate]:
    for m in _TITLE.finditer(text):
        if not _word_starts_at(text, m.start()):
            continue
        trimmed = _name_words(m.group("name"), m.start("name"))
        # After a title the first word must be the name itself: "Mr The ..." is not a name.
        if trimmed is not None and trimmed[0] == m.start("name"):
            yield trimmed[0], trimmed[1], "name"
    headline: bool | None = None
    for capital in _CAPITAL_AFTER_SPACE.finditer(text):
        start = capital.start()
        cue = _cue_before(text, low, start)
        if cue is None:
            continue
        if cue != "relation":
            if headline is None:
                headline = _looks_like_headline(text)
            if headline:
                continue
        name = _NAME.match(text, start)
        if name is None:
            continue
        trimmed = _name_words(name.group(), start)
        if trimmed is None or trimmed[0] != start:
            continue  # the word straight after the cue must itself be a name
        if cue == "intro" and not _ends_an_introduction(text, trimmed[1]):
            continue
        yield trimmed[0], trimmed[1], "name"
    if has_digit and ("age" in low or "who" in low or _AGE_HINT.search(text) is not None):
        for m in _AGED.finditer(text):
            trimmed = _name_words(m.group(), m.start())
            if trimmed is not None and trimmed[1] == m.end():
                yield trimmed[0], trimmed[1], "name"


def _lower(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    # A few characters lower-case to two ("İ" -> "i̇"); keep those as they are, so offsets hold.
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


# ---------------------------------------------------------------------------------------------
# Public API


def find_personal_data(text: str) -> list[Span]:
    """Personal data in ``text``: sorted by start, non-overlapping.

    Where candidates overlap, a specific pattern (email, phone, date of birth, postcode, plate)
    wins over an address, and an address over a name; within those, the longer span wins.
    """
    if not text:
        return []
    low = _lower(text)
    candidates: list[_Candidate] = []
    has_digit = any(map(text.__contains__, "0123456789"))
    if "@" in text:
        candidates.extend(_emails(text))
    if has_digit:
        candidates.extend(_phones(text))
        candidates.extend(_postcodes(text, low))
        candidates.extend(_plates(text, low))
        candidates.extend(_addresses(text, low))
        if any(word in low for word in _DOB_WORDS):
            candidates.extend(_dates_of_birth(low))
    if low != text:  # no capitals, no names
        candidates.extend(_names(text, low, has_digit))
    if not candidates:
        return []
    if "://" in low or "www." in low:
        # Ids and paths in links look like plates, postcodes and numbers, and aren't.
        urls = [(m.start(), m.end()) for m in _URL.finditer(low)]
        candidates = [
            c for c in candidates if c[2] == "email" or all(c[1] <= s or e <= c[0] for s, e in urls)
        ]
    candidates.sort(key=lambda c: (_TIER[c[2]], c[0] - c[1], c[0]))
    # One byte per character marks what is taken: linear, even for a pasted document.
    taken = bytearray(len(text))
    chosen: list[_Candidate] = []
    for cand in candidates:
        start, end, _ = cand
        if taken.find(1, start, end) == -1:
            taken[start:end] = b"\x01" * (end - start)
            chosen.append(cand)
    chosen.sort()
    return [Span(s, e, kind, text[s:e]) for s, e, kind in chosen]


def redact(text: str, spans: list[Span] | None = None) -> str:
    """``text`` with each span replaced by ``[kind]``, e.g. "call [phone]".

    With no spans, redacts whatever :func:`find_personal_data` finds. Spans must belong to
    this text: a span whose value doesn't match raises ``ValueError`` rather than blanking the
    wrong characters. Where given spans overlap, the earlier one is kept.
    """
    if spans is None:
        spans = find_personal_data(text)
    parts: list[str] = []
    position = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if (
            not 0 <= span.start <= span.end <= len(text)
            or text[span.start : span.end] != span.value
        ):
            raise ValueError(f"span {span.start}-{span.end} does not match the text")
        if span.start < position:
            continue
        parts.append(text[position : span.start])
        parts.append(f"[{span.kind}]")
        position = span.end
    parts.append(text[position:])
    return "".join(parts)
