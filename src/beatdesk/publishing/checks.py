"""Checks on an outbound post, run before it goes out, that explain risks to the officer.

Each check returns :class:`Finding` objects: ``block`` findings stop the post until a permitted
role overrides them (the override is handled elsewhere), ``warn`` and ``info`` only explain.

* personal_data - third-party personal data, via :mod:`beatdesk.triage.personal_data`.
* victim - wording or detail that could identify a victim of crime.
* sub_judice - people who have been charged, and prejudicial words near "charged".
* banned_words - the force's own list of words that must not appear.
* tone - press-release wording, with plain English to use instead.
* accessibility - images without alt text, lower-case hashtags, long runs of emoji.
* length - each network's character limit, counted the way that network counts.

Everything is rules, English only, and offsets are ``str`` indices (code points), so that
``text[start:end]`` is the flagged part.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from beatdesk.networks.length import clusters as _clusters
from beatdesk.networks.length import is_emoji as _is_emoji
from beatdesk.networks.length import urls as _urls
from beatdesk.networks.registry import LengthLimits, length_of, network_label
from beatdesk.triage.personal_data import Span, find_personal_data

__all__ = ["LIMITS", "Finding", "Media", "run_checks"]


@dataclass(frozen=True)
class Finding:
    check: str  # "personal_data" | "victim" | "sub_judice" | "banned_words" | "tone" | ...
    severity: str  # "block" (needs an override by a permitted role) | "warn" | "info"
    message: str  # plain English for the officer, saying why and what to do
    spans: tuple[tuple[int, int], ...] = ()  # character ranges in the text, for highlighting
    suggestion: str = ""  # e.g. plain wording for press-release phrases


@dataclass(frozen=True)
class Media:
    alt_text: str


LIMITS = LengthLimits()  # each network's own limit, asked of the network

_SEVERITY_ORDER = {"block": 0, "warn": 1, "info": 2}

_SpanTuple = tuple[int, int]


def _words_pattern(words: Iterable[str]) -> str:
    """An alternation of whole words or phrases; spaces in a phrase match any white space."""
    parts = sorted({w.strip() for w in words if w.strip()}, key=len, reverse=True)
    escaped = (r"\s+".join(re.escape(p) for p in w.split()) for w in parts)
    return r"(?<!\w)(?:" + "|".join(escaped) + r")(?!\w)"


def _split(words: str) -> list[str]:
    return words.split()


def _overlaps(span: _SpanTuple, others: Iterable[_SpanTuple]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in others)


# ---------------------------------------------------------------------------------------------
# personal_data

_KIND_LABELS = {
    "phone": "a phone number",
    "email": "an email address",
    "address": "an address",
    "postcode": "a postcode",
    "vehicle_registration": "a vehicle registration",
    "date_of_birth": "a date of birth",
}


def _personal_data(
    spans: list[Span], post_type: str, charged: list[_SpanTuple]
) -> Iterable[Finding]:
    for span in spans:
        where = ((span.start, span.end),)
        if span.kind == "name":
            if _overlaps(where[0], charged):
                continue  # a charged person: the sub_judice check says what may be published
            if post_type == "appeal":
                yield Finding(
                    "personal_data",
                    "info",
                    f'Names "{span.value}". In an appeal, check this is the person you are '
                    "appealing about and that naming them has been authorised.",
                    where,
                )
            else:
                yield Finding(
                    "personal_data",
                    "warn",
                    f'This looks like a person\'s name ("{span.value}"). Your own name or a '
                    "wanted person in an appeal is fine; don't name victims, witnesses or other "
                    "members of the public.",
                    where,
                )
            continue
        label = _KIND_LABELS.get(span.kind, "personal data")
        yield Finding(
            "personal_data",
            "block",
            f"This looks like {label} (\"{span.value}\"). Don't publish members of the public's "
            "personal data: remove it, or ask a permitted role to override if it must go out.",
            where,
        )


# ---------------------------------------------------------------------------------------------
# victim

_VICTIM_RISK = (
    "This could identify a victim. Victims of sexual offences have lifelong anonymity in UK law, "
    "and naming or describing any victim closely enough to recognise them can put them at risk. "
    "Remove the detail, or ask a permitted role to override if the person is not a victim."
)
_OFFENCE_WORDS = ("assaulted", "raped", "sexually", "stabbed", "burgled", "robbed", "attacked")
_OFFENCE = re.compile(_words_pattern(_OFFENCE_WORDS), re.IGNORECASE)
_PERSON_NOUNS = (
    "woman|man|girl|boy|lady|gentleman|teenager|teen|child|pensioner|student|pupil|person|"
    "mother|father|grandmother|grandfather|driver|cyclist|pedestrian|resident|worker|"
    "women|men|girls|boys|people|teenagers|children|pensioners|students"
)
_VICTIM_WORDS = re.compile(
    r"(?<!\w)(?:victims?|injured\s+part(?:y|ies)|complainants?"
    rf"|the\s+(?:{_PERSON_NOUNS})\s+who\s+(?:was|were|had\s+been|has\s+been|have\s+been)\s+"
    r"(?:sexually\s+)?(?:attacked|assaulted|raped|stabbed|burgled|robbed|abused|hurt|injured|"
    r"targeted|threatened|harassed|mugged))(?!\w)",
    re.IGNORECASE,
)
# General advice mentions victims without pointing at anyone: "contact Victim Support".
_GENERIC_VICTIM = re.compile(
    r"victim\s+support|victims['’]?\s+code|victims['’]?\s+commissioner"
    r"|if\s+you(?:['’]ve|\s+have|['’]re|\s+are)?(?:\s+been)?(?:\s+(?:a|the))?\s+victims?",
    re.IGNORECASE,
)
_RANK_BEFORE = re.compile(
    r"(?:PC|PCSO|Sgt|Sergeant|DC|DS|DI|DCI|DSI|DSU|Insp|Inspector|Supt|Superintendent|"
    r"Constable|Officer|Chief)\.?\s+(?:\d{1,5}\s+)?\Z"
)
_AGE_AFTER_NAME = re.compile(r"\s*[,(]\s*(?:aged\s+)?(?P<age>\d{1,3})\b")
_AGE = re.compile(r"\baged\s+\d{1,3}\b|\b\d{1,3}[- ]years?[- ]old\b", re.IGNORECASE)
_STREET = re.compile(
    r"\b[A-Z][\w'’-]+(?:\s[A-Z][\w'’-]+)?\s(?:Road|Rd|Street|St|Avenue|Ave|Lane|Close|Drive|"
    r"Way|Crescent|Court|Grove|Place|Terrace|Gardens|Hill|Walk|Row|Mews|Square)\b"
)


def _victim(text: str, spans: list[Span], charged: list[_SpanTuple]) -> Iterable[Finding]:
    generic = [m.span() for m in _GENERIC_VICTIM.finditer(text)]
    words = [m for m in _VICTIM_WORDS.finditer(text) if not _overlaps(m.span(), generic)]
    if words:
        found = ", ".join(dict.fromkeys(f'"{m.group()}"' for m in words))
        yield Finding(
            "victim",
            "block",
            f"Mentions a victim ({found}). Check nothing else in the post (name, age, street, "
            f"exact place or time) points to who they are. {_VICTIM_RISK}",
            tuple(m.span() for m in words),
        )
    names = [
        s
        for s in spans
        if s.kind == "name"
        and not _RANK_BEFORE.search(text, max(0, s.start - 30), s.start)
        and not _overlaps((s.start, s.end), charged)
    ]
    if not names:
        return
    offences = [m.span() for m in _OFFENCE.finditer(text)]
    addresses = [(s.start, s.end) for s in spans if s.kind == "address"]
    streets = [m.span() for m in _STREET.finditer(text) if not _overlaps(m.span(), addresses)]
    for name in names:
        after = _AGE_AFTER_NAME.match(text, name.end)
        age = after.span("age") if after is not None else None
        if age is None:
            anywhere = _AGE.search(text)
            age = anywhere.span() if anywhere is not None else None
        details: list[_SpanTuple] = []
        reasons: list[str] = []
        if offences:
            details += offences
            reasons.append("an offence")
        if addresses:
            details += addresses
            reasons.append("an exact address")
        elif age is not None and streets:
            details += [age, *streets]
            reasons.append("an age and a street")
        if reasons:
            yield Finding(
                "victim",
                "block",
                f'"{name.value}" is named together with {" and ".join(reasons)}. {_VICTIM_RISK}',
                tuple(sorted({(name.start, name.end), *details})),
            )


# ---------------------------------------------------------------------------------------------
# sub_judice

_PREJUDICIAL = re.compile(
    _words_pattern(
        _split(
            "guilty thug thugs evil monster monsters scumbag scumbags yob yobs animal animals "
            "vile sicko"
        )
        + ["finally caught", "brought to justice", "behind bars"]
    ),
    re.IGNORECASE,
)
_CHARGED = re.compile(r"\bcharged\b", re.IGNORECASE)


def _charged_spans(text: str, charged_names: Sequence[str]) -> dict[str, list[_SpanTuple]]:
    """Where each charged person is mentioned: full name, or surname alone (2+ part names).

    Both are matched case-insensitively, except that a surname written all in lower case in a
    post that isn't itself all lower case is taken for an ordinary word ("a brown car").
    """
    found: dict[str, list[_SpanTuple]] = {}
    shouting_or_lower = text == text.lower() or text == text.upper()
    for name in charged_names:
        parts = name.split()
        if not parts:
            continue
        full = [m.span() for m in re.finditer(_words_pattern([name]), text, re.IGNORECASE)]
        spans = list(full)
        if len(parts) >= 2 and len(parts[-1]) > 1:
            for m in re.finditer(_words_pattern(parts[-1:]), text, re.IGNORECASE):
                if _overlaps(m.span(), full):
                    continue
                if m.group().islower() and not shouting_or_lower:
                    continue
                spans.append(m.span())
        if spans:
            found[" ".join(parts)] = sorted(spans)
    return found


def _sub_judice(text: str, charged: dict[str, list[_SpanTuple]]) -> Iterable[Finding]:
    for name, spans in charged.items():
        yield Finding(
            "sub_judice",
            "block",
            f"{name} has been charged: publishing anything that could prejudice the trial is "
            "contempt of court; state only name, age, address of residence as charged, the "
            "charge, and court date.",
            tuple(spans),
        )
    if _CHARGED.search(text):
        words = list(_PREJUDICIAL.finditer(text))
        if words:
            listed = ", ".join(dict.fromkeys(f'"{m.group()}"' for m in words))
            yield Finding(
                "sub_judice",
                "warn",
                f"The post is about a charge and says {listed}. Until the case is over, words "
                "that suggest guilt or judge the accused could prejudice the trial (contempt of "
                "court). Stick to the facts: the charge and the court date.",
                tuple(m.span() for m in words),
            )


# ---------------------------------------------------------------------------------------------
# banned_words


def _banned_words(text: str, banned: Sequence[str]) -> Iterable[Finding]:
    spans: list[_SpanTuple] = []
    listed: list[str] = []
    for word in banned:
        if not word.strip():
            continue
        hits = [m.span() for m in re.finditer(_words_pattern([word]), text, re.IGNORECASE)]
        if hits:
            spans += hits
            listed.append(word.strip())
    if spans:
        words = ", ".join(f'"{w}"' for w in dict.fromkeys(listed))
        yield Finding(
            "banned_words",
            "block",
            f"Contains words on the force's banned list: {words}. Remove them, or ask a "
            "permitted role to override.",
            tuple(sorted(spans)),
        )


# ---------------------------------------------------------------------------------------------
# tone

# (pattern, plain wording). Earlier patterns win where they overlap later ones. A replacement
# may use \1 for the first group through _PLAIN_GROUPS ("a male" -> "a man").
_PLAIN_GROUPS = {"male": "man", "female": "woman", "are": "are", "were": "were"}
_TONE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.IGNORECASE), r)
    for p, r in [
        (
            r"\ba\s+(male|female)\s+(?:was|has\s+been|had\s+been)\s+apprehended\b",
            r"we arrested a \1",
        ),
        (r"\bofficers\s+(are|were)\s+in\s+attendance\b", r"officers \1 there"),
        (r"\battended\s+the\s+scene\b", "went there"),
        (r"\bat\s+this\s+(?:moment|point)\s+in\s+time\b", "now"),
        (r"\bin\s+the\s+vicinity\s+of\b", "near"),
        (r"\bin\s+relation\s+to\b", "about"),
        (r"\bthe\s+aforementioned\b", "this"),
        (r"\ba\s+(male|female)\b(?!-)", r"a \1"),
        (r"\bapprehended\b", "arrested"),
        (r"\bproceeded\b", "went"),
        (r"\bassist(?:s)?\b", "help"),
        (r"\bassisted\b", "helped"),
        (r"\bassisting\b", "helping"),
        (r"\bassistance\b", "help"),
        (r"\bcommence(?:s)?\b", "start"),
        (r"\bcommenced\b", "started"),
        (r"\bcommencing\b", "starting"),
        (r"\butili[sz]e(?:s)?\b", "use"),
        (r"\butili[sz]ed\b", "used"),
        (r"\butili[sz]ing\b", "using"),
    ]
]


def _plain(match: re.Match[str], replacement: str) -> str:
    if r"\1" in replacement:
        group = match.group(1).lower()
        replacement = replacement.replace(r"\1", _PLAIN_GROUPS.get(group, group))
    if match.group()[0].isupper():
        replacement = replacement[0].upper() + replacement[1:]
    return replacement


def _tone(text: str) -> Iterable[Finding]:
    taken: list[_SpanTuple] = []
    for pattern, replacement in _TONE:
        for m in pattern.finditer(text):
            if _overlaps(m.span(), taken):
                continue
            taken.append(m.span())
            plain = _plain(m, replacement)
            yield Finding(
                "tone",
                "warn",
                f'"{m.group()}" sounds like a press release. Plain words read better and are '
                f'clearer for everyone: try "{plain}".',
                (m.span(),),
                plain,
            )


# ---------------------------------------------------------------------------------------------
# accessibility

_HASHTAG = re.compile(r"(?<![\w#&/])#(\w+)")
_HASHTAG_MIN = 10  # only lower-case hashtags longer than this are flagged
# Words for splitting a lower-case hashtag into CamelCase. Unknown words fall back to advice.
_VOCABULARY = frozenset(
    _split(
        """
a an and the of in on at to for is be it we you our your my all not no with by from this that
knife knives crime crimes awareness aware week day month year night safe safety stay keep be
road roads drive driving drink drug drugs fatal four speed speeding seat belt belts phone
police policing force officer officers pcso pcsos team teams local community communities
neighbourhood neighbourhoods watch beat patrol patrols help helping report reporting reported
fraud scam scams scammers online cyber romance courier doorstep rogue trader traders
burglary burglaries theft thefts car cars bike bikes cycle cycling bicycle van vans vehicle
domestic abuse violence against women girls men boys child children young people youth
missing person people found appeal appeals wanted witness witnesses information
hate crimes hidden harm modern slavery exploitation county lines anti social antisocial
behaviour festive christmas summer winter spring autumn halloween bonfire fireworks firework
new years eve happy thank thanks you well done proud recruit recruitment join us careers
mental health wellbeing lonely loneliness elderly older vulnerable protect protecting
lock locks lockit secure home homes house garden shed sheds water cold hot weather
heatwave flood flooding fire rescue emergency call calls non nine one zero stop search
operation op black history pride month remembrance sunday lest forget armistice
west mere westmere dudley walsall abbeyfield city town centre village park street
"""
    )
)


def _camel_case(body: str) -> str | None:
    """Split a lower-case hashtag into known words, fewest words first; None if it can't."""
    best: list[list[str] | None] = [[]] + [None] * len(body)
    for end in range(1, len(body) + 1):
        for start in range(max(0, end - 20), end):
            before = best[start]
            piece = body[start:end]
            if before is None or not (piece in _VOCABULARY or piece.isdigit()):
                continue
            if best[end] is None or len(before) + 1 < len(best[end] or ()):
                best[end] = [*before, piece]
    words = best[-1]
    if not words or len(words) < 2:
        return None
    return "#" + "".join(w[:1].upper() + w[1:] for w in words)


def _emoji_runs(text: str) -> Iterable[tuple[int, int, int]]:
    """(start, end, count) of runs of emoji, allowing spaces between them."""
    run_start, run_end, count = 0, 0, 0
    for start, end in _clusters(text):
        if _is_emoji(text[start]):
            if count == 0:
                run_start = start
            run_end, count = end, count + 1
        elif text[start:end] in (" ", "\t", "\u00a0") and count:
            continue
        else:
            if count:
                yield run_start, run_end, count
            count = 0
    if count:
        yield run_start, run_end, count


def _accessibility(text: str, media: Sequence[Media]) -> Iterable[Finding]:
    for number, item in enumerate(media, start=1):
        if not (item.alt_text or "").strip():
            yield Finding(
                "accessibility",
                "block",
                f"Image {number} has no alt text: add alt text so blind and partially sighted "
                "people know what the image shows.",
            )
    urls = _urls(text)
    for m in _HASHTAG.finditer(text):
        body = m.group(1)
        if _overlaps(m.span(), urls) or len(body) <= _HASHTAG_MIN:
            continue
        if not body.islower() or "_" in body:
            continue
        camel = _camel_case(body)
        example = f"write it as {camel}" if camel else "capitalise each word (#KnifeCrimeAwareness)"
        yield Finding(
            "accessibility",
            "warn",
            f"{m.group()} is all lower case, so screen readers read it as one long word: "
            f"{example}.",
            (m.span(),),
            camel or "",
        )
    for start, end, count in _emoji_runs(text):
        if count > 3:
            yield Finding(
                "accessibility",
                "info",
                f"{count} emoji in a row: screen readers read out the name of every one. "
                "One or two is plenty.",
                ((start, end),),
            )


# ---------------------------------------------------------------------------------------------
# length


def count_characters(text: str, network: str) -> int:
    """The length of ``text`` as ``network`` counts it (approximately, for X and Bluesky)."""
    return length_of(network.lower()).count(text)


def _length(text: str, networks: Sequence[str]) -> Iterable[Finding]:
    for network in dict.fromkeys(n.lower() for n in networks):
        counting = length_of(network)
        limit = counting.limit
        if limit is None:
            continue  # not a network with a known limit
        units = counting.units(text)
        total = sum(w for _, _, w in units)
        if total <= limit:
            continue
        running, over = 0, len(text)
        for start, _, weight in units:
            running += weight
            if running > limit:
                over = start
                break
        label = network_label(network)
        yield Finding(
            "length",
            "block",
            f"Too long for {label}: {total} characters, and {label} allows {limit}. Cut "
            f"{total - limit} characters, or don't post this version to {label}.",
            ((over, len(text)),),
        )


# ---------------------------------------------------------------------------------------------
# Public API


def run_checks(
    text: str,
    *,
    networks: list[str],
    media: Sequence[Media] = (),
    charged_names: Sequence[str] = (),
    banned_words: Sequence[str] = (),
    post_type: str = "",
) -> list[Finding]:
    """Every check on ``text``, blocks first, then warnings, then information; within each,
    in the order they appear in the text (findings about attachments come last)."""
    spans = find_personal_data(text)
    charged = _charged_spans(text, charged_names)
    charged_all = [s for found in charged.values() for s in found]
    findings: list[Finding] = [
        *_personal_data(spans, post_type.lower(), charged_all),
        *_victim(text, spans, charged_all),
        *_sub_judice(text, charged),
        *_banned_words(text, banned_words),
        *_tone(text),
        *_accessibility(text, media),
        *_length(text, networks),
    ]

    def order(finding: Finding) -> tuple[int, int]:
        position = min((s for s, _ in finding.spans), default=len(text) + 1)
        return _SEVERITY_ORDER[finding.severity], position

    return sorted(findings, key=order)
