"""Words that matter for grading, each with the reason a call handler would give.

The classifier reads the whole message; these cues explain its decision in words and
keep emergencies from being missed when the wording is unusual for the model. They cover
the desk's languages where a term is common (Welsh, Polish, Urdu, Punjabi, Romanian,
Arabic), not just English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Cue:
    kind: str
    label: str
    pattern: re.Pattern[str]


def _cue(kind: str, label: str, words: list[str]) -> Cue:
    body = "|".join(words)
    # Matched against the lower-cased text: case-insensitive matching costs Python's re far more.
    return Cue(kind, label, re.compile(rf"(?<!\w)(?:{body})(?!\w)"))


THREAT = _cue(
    "threat",
    "threat-to-life words",
    [
        r"(?:got|has|with|holding|waving|pulled)\s+(?:a\s+)?(?:knife|blade|machete|gun|weapon|bat)",
        r"knife",
        r"knives",
        r"shotgun",
        r"rifle",
        r"firearm",
        r"with (?:bats|weapons|knives)",
        r"(?:getting|being) (?:beaten|battered|kicked|stabbed|attacked)",
        r"beat(?:en|ing) up",
        r"hurting (?:me|her|him)",
        r"hitting (?:me|her|him)",
        r"punching",
        r"rob(?:bing|bery)",
        r"mugg(?:ed|ing)",
        r"break(?:ing)? in",
        r"glass smash\w*",
        r"fell (?:in|into)",
        r"fallen (?:in|into)",
        r"collapsed",
        r"seizure",
        r"walked out",
        r"wandered off",
        r"can'?t find (?:my|our)",
        r"syrthio",
        r"bije",
        r"machete",
        r"gun",
        r"shot(?:s)?\s+fired",
        r"stabb(?:ed|ing)",
        r"shooting",
        r"bleeding",
        r"blood everywhere",
        r"not breathing",
        r"unconscious",
        r"not moving",
        r"kill (?:me|her|him|them|us|myself)",
        r"going to kill",
        r"gonna kill",
        r"end it all",
        r"overdos\w*",
        r"suicid\w*",
        r"jump(?:ing)? off",
        r"drowning",
        r"in the (?:canal|river|water)",
        r"on fire",
        r"trapped",
        r"kidnapp\w*",
        r"snatched",
        r"strangl\w*",
        r"choking",
        r"being attacked",
        r"beating (?:him|her|them) up",
        r"hit by a (?:car|van|bus)",
        r"nóż\w*",
        r"noż\w*",
        r"pomocy",
        r"cyllell",
        r"help fi",
        r"cuțit\w*",
        r"ajutor",
        r"سکین",
        r"چاقو",
        r"مدد",
        r"بچاؤ",
        r"النجدة",
        r"سكين",
        r"ਚਾਕੂ",
        r"ਮਦਦ",
        r"ਬਚਾਓ",
        # Welsh, Polish, Romanian, Arabic, Urdu, Punjabi: harm, fire, water, the missing.
        r"lladd",
        r"tân",
        r"gwaedu",
        r"ddim yn anadlu",
        r"anymwybodol",
        r"sownd",
        r"ymosod\w*",
        r"torri i mewn",
        r"nieprzytomn\w*",
        r"nie oddycha",
        r"dobudzić",
        r"włam\w*",
        r"napad\w*",
        r"pali się",
        r"pożar\w*",
        r"ton(?:ie|ą)",
        r"topi się",
        r"krwaw\w*",
        r"bije",
        r"grozi\w*",
        r"zabi(?:ć|je|ję)",
        r"ratunku",
        r"nu (?:mai )?respiră",
        r"incon[sș]tient\w*",
        r"sânger\w*",
        r"incendiu",
        r"arde",
        r"se îneacă",
        r"a dispărut",
        r"amenin[țţ]\w*",
        r"omoar\w*",
        r"spart",
        r"سقط",
        r"السباحة",
        r"يضرب\w*",
        r"يهدد\w*",
        r"بقتل\w*",
        r"حريق",
        r"ينزف",
        r"لا يتنفس",
        r"فاقد الوعي",
        r"ساعدونا",
        r"أسرعوا",
        r"آگ",
        r"بے ہوش",
        r"سانس نہیں",
        r"مار رہا",
        r"دھمکی\w*",
        r"ਅੱਗ",
        r"ਬੇਹੋਸ਼",
        r"ਸਾਹ ਨਹੀਂ",
        r"ਕੁੱਟ\w*",
        r"ਧਮਕੀ",
    ],
)
IN_PROGRESS = _cue(
    "now",
    "happening now",
    [
        r"right now",
        r"now",
        r"happening",
        r"currently",
        r"as we speak",
        r"outside my",
        r"trying to get in",
        r"in my (?:house|garden|loft)",
        r"hurry",
        r"quick",
        r"asap",
        r"please come",
        r"send (?:someone|help|police)",
        r"help me",
        r"urgent\w*",
        r"emergency",
        r"rn",
        r"atm",
        r"still (?:here|there|going)",
        r"heading (?:down|towards|to)",
        r"walking into",
        r"been gone",
        r"been looking",
        r"just (?:now|happened)",
        r"on the floor",
        r"brysiwch",
        r"dewch",
        r"natychmiast",
        r"repede",
        r"grabă",
        r"teraz",
        r"szybko",
        r"nawr",
        r"acum",
        r"ابھی",
        r"فوراً",
        r"الآن",
        r"ਹੁਣੇ",
        r"ਜਲਦੀ",
        r"ar hyn o bryd",
        r"rŵan",
        r"helpwch",
        r"właśnie",
        r"w tej chwili",
        r"pomóżcie",
        r"chiar acum",
        r"vă rog",
        r"حالا",
        r"بسرعة",
        r"جلدی",
        r"ਹੁਣ",
    ],
)
VULNERABLE = _cue(
    "vulnerable",
    "vulnerable person",
    [
        r"child",
        r"children",
        r"kid",
        r"kids",
        r"baby",
        r"toddler",
        r"(?:my|a|little)\s+(?:son|daughter|boy|girl)",
        r"\d{1,2}\s*(?:yo|year old|years old|yr old)",
        r"elderly",
        r"old (?:man|woman|lady)",
        r"nan",
        r"gran",
        r"grandad",
        r"dementia",
        r"alzheimer\w*",
        r"disabled",
        r"pregnant",
        r"missing",
        r"vulnerable",
        r"autistic",
        r"dzieckiem",
        r"ਬਜ਼ੁਰਗ",
        r"\d+\s*(?:year|yr)s?\s*old",
        r"dziecko",
        r"plentyn",
        r"copil",
        r"بچہ",
        r"بچی",
        r"طفل",
        r"ਬੱਚਾ",
    ],
)
PAST = _cue(
    "past",
    "in the past",
    [
        r"last (?:night|week|month|year)",
        r"yesterday",
        r"ago",
        r"the other day",
        r"earlier (?:today|this)",
        r"(?:on|last) (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
        r"(?:weeks|months|years) ago",
        r"(?:a|two|three|few) (?:weeks|months)",
        r"back in",
        r"(?:was|got|been) (?:stabbed|attacked|robbed|mugged|burgled|assaulted|beaten)",
        r"happened (?:on|at|in|last)",
        r"(?:neithiwr|ddoe)",
        r"(?:wczoraj|w zeszłym)",
        r"(?:ieri|săptămâna trecută)",
        r"(?:کل رات|پچھلے ہفتے)",
        r"(?:أمس|الأسبوع الماضي)",
        r"(?:ਕੱਲ੍ਹ|ਪਿਛਲੇ ਹਫ਼ਤੇ)",
    ],
)
# Help is already there: an update from the scene, not a call for help.
ATTENDED = _cue(
    "attended",
    "help already there",
    [
        r"(?:police|officers|coppers|feds|ambulance|paramedics|fire(?: brigade| engine)?|"
        r"vans?|cars?)\s+(?:are\s+|is\s+|just\s+)?(?:here|there|arrived|turned up|on scene|"
        r"got there|just got there|blocking)",
        r"(?:police|officers|coppers|ambulance) (?:here|there) now",
        r"(?:they'?ve|they have|police have|officers have) "
        r"(?:got|arrested|caught|stopped) (?:him|her|them|one)",
        r"(?:he'?s|she'?s|they'?re) (?:out|safe)(?: now)?",
        r"been arrested",
        r"found (?:him|her|them) safe",
        r"(?:just been|been) stopped",
    ],
)
# Hearsay: the writer passes on what others say; the register of rumours weighs it.
HEARSAY = _cue(
    "hearsay",
    "passing on what others say",
    [
        r"is (?:it|this) true",
        r"(?:my )?(?:friend|mate|mum|cousin|neighbour) (?:just )?(?:said|told me|messaged)",
        r"just been told",
        r"(?:seeing|seen) (?:lots of |loads of |a lot of )?posts",
        r"posts about",
        r"rumou?rs?",
        r"statement",
        r"apparently",
        r"allegedly",
        r"share share",
        r"has anyone seen anything official",
        r"on whatsapp",
        r"czy to prawda",
        r"ydy hyn yn wir",
        r"e adevărat",
        r"کیا یہ سچ ہے",
        r"هل هذا صحيح",
        r"ਕੀ ਇਹ ਸੱਚ ਹੈ",
    ],
)

# Words that make an alert less likely: the writer says nobody is hurt, thanks the police,
# asks what the law says, supposes, retells the news, jokes, complains about a wait, or has
# lost or found something. They explain a held-back alert and teach the alert check.
NEGATION = _cue(
    "negation",
    "says it is not urgent",
    [
        r"no ?one (?:was |is |got )?(?:hurt|injured)",
        r"nobody (?:was |is |got )?(?:hurt|injured)",
        r"not (?:an? )?(?:emergency|urgent)",
        r"non[- ]?emergency",
        r"no(?:t| longer) (?:in )?danger",
        r"(?:all|everyone'?s?|everybody'?s?) (?:ok|okay|fine|safe|sorted)",
        r"no rush",
        r"when you (?:get a chance|can|have time)",
        r"nie jest pilne",
        r"dim brys",
        r"nu e urgent",
    ],
)
THANKS = _cue(
    "thanks",
    "thanks or praise",
    [
        r"thank(?:s| you| u)\w*",
        r"cheers",
        r"legends?",
        r"well done",
        r"hats? off",
        r"credit to",
        r"shout ?out",
        r"grateful",
        r"appreciate\w*",
        r"amazing (?:job|work)",
        r"great (?:job|work)",
        r"diolch",
        r"dziękuj\w*",
        r"mulțumesc",
        r"mulţumesc",
        r"شکریہ",
        r"شكرا",
        r"ਧੰਨਵਾਦ",
    ],
)
LOST = _cue(
    "lost",
    "lost or found property",
    [
        r"lost (?:my|our|a|his|her)",
        r"(?:found|handed in|handed)\s+(?:a|an|some|this|these|my)\s+(?:[\w-]+\s+){0,2}"
        r"(?:wallet|purse|phone|keys?|bag|card|bike|dog|cat|passport|ring|watch|glasses)",
        r"lost property",
        r"dropped (?:my|a)",
        r"left (?:my|a) \w+ on",
    ],
)
LAW_QUESTION = _cue(
    "law_question",
    "a question about the law",
    [
        r"is it (?:legal|illegal|against the law|an offence|allowed)",
        r"am i allowed",
        r"(?:can|could) i (?:legally|carry|defend|use)",
        r"what(?:'s| is) the law",
        r"legal to",
        r"what (?:should|do) (?:i|we|you) do if",
        r"what happens if",
        r"how do i report",
        r"where (?:do|can) i report",
        r"what if",
        r"if someone",
        r"hypothetically",
        r"would (?:it|you|i)",
    ],
)
NEWS = _cue(
    "news",
    "news or a past event retold",
    [
        r"bbc",
        r"article",
        r"(?:in|on) the news",
        r"news",
        r"reported (?:that|on)",
        r"jailed",
        r"sentenced",
        r"charged with",
        r"(?:in|at|to|before|outside) (?:the )?(?:crown |magistrates'? )?court",
        r"(?:crown|magistrates'?) court",
        r"inquest",
        r"anniversary",
        r"years? ago",
        r"back in \d{4}",
        r"https?://",
    ],
)
JOKE = _cue(
    "joke",
    "a joke or figure of speech",
    [
        r"lol",
        r"lmao",
        r"rofl",
        r"haha\w*",
        r"jk",
        r"😂",
        r"🤣",
        r"😆",
        r"😅",
        r"only joking",
        r"murder(?:ing)? (?:a|my|the) (?:pint|kebab|curry|pizza|burger)",
        r"(?:traffic|queue|this heat) is (?:murder|killing)",
        r"killing me",
        r"dying (?:of|for|to)",
        r"i(?:'ll| will) kill (?:him|her|them|my \w+) if",
    ],
)
COMPLAINT = _cue(
    "complaint",
    "a complaint about the service",
    [
        r"(?:waited|waiting) (?:for )?(?:\d+|two|three|four|five|six|over an?) "
        r"(?:hours?|mins?|minutes?|days?)",
        r"still waiting",
        r"no ?one (?:came|turned up|has come|called back|got back)",
        r"nobody (?:came|turned up|has come|called back|got back)",
        r"never (?:came|turned up|got back|called back)",
        r"on hold",
        r"disgrace\w*",
        r"useless",
        r"pathetic",
        r"complain\w*",
        r"why (?:do|don'?t|didn'?t|won'?t) (?:you|the police)",
        r"what(?:'s| is) the point",
        r"every (?:night|day|week|weekend)",
        r"(?:again|again!)$",
    ],
)
CALMING = (NEGATION, THANKS, LOST, LAW_QUESTION, NEWS, JOKE, COMPLAINT)


@dataclass(frozen=True)
class Hit:
    kind: str
    label: str
    words: tuple[str, ...]

    @property
    def reason(self) -> str:
        quoted = ", ".join(f"'{w}'" for w in self.words[:3])
        return f"{self.label}: {quoted}"


def find(text: str) -> dict[str, Hit]:
    hits: dict[str, Hit] = {}
    lowered = text.lower()
    for cue in (THREAT, IN_PROGRESS, VULNERABLE, PAST, ATTENDED, HEARSAY, *CALMING):
        words = tuple(dict.fromkeys(m.group(0) for m in cue.pattern.finditer(lowered)))
        if words:
            hits[cue.kind] = Hit(cue.kind, cue.label, words)
    return hits


RUMOUR = re.compile(
    r"(?<!\w)(?:is (?:it|this) true|is this real|unconfirmed|rumou?rs?|reports? of|reportedly|"
    r"allegedly|apparently|heard (?:that|from)|someone said|my mate said|fake news|hoax|"
    r"not true|can anyone confirm|confirm\w*|source\?|share this|pass it on)(?!\w)|\?",
    re.IGNORECASE,
)


def rumour_cues(text: str) -> int:
    return len(RUMOUR.findall(text))
