"""The rules a watch keeps: a purpose, an owner, an expiry, a term and never a person.

Network terms forbid surveillance of individuals, and beatdesk keeps no watchlists of
people: a watch follows a hashtag, a keyword, a phrase, a place or a news feed tied to an
operation. A query that names an account (an @handle, a profile address, a did:, a from:/to:
operator) or reads as a person's name is refused with the reason. The force's own mentions
need no watch: they arrive in the inbox.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from beatdesk.networks.registry import known
from beatdesk.networks.search import hashtag_of
from beatdesk.triage.personal_data import find_personal_data

# A watch is for an operation or event, not a standing collection: a quarter at most. A
# longer need is a new watch with a fresh purpose and a fresh approval.
MAX_WATCH_DAYS = 90
MAX_WATCH_DURATION = dt.timedelta(days=MAX_WATCH_DAYS)

PERSON_EXPLANATION = (
    "A watch follows a topic, a hashtag, a place or a feed, never a person: network terms "
    "forbid surveillance of individuals and beatdesk keeps no watchlists of people. Messages "
    "to the force's own accounts already arrive in the inbox."
)

_HANDLE = re.compile(r"(?<![\w@])@[\w.\-]+")
_OPERATORS = re.compile(
    r"(?i)(?<![\w])(from|to|mentions|retweets_of|author|by|list|in_reply_to|user|account_id)\s*:"
)
_DID = re.compile(r"(?i)\bdid:[a-z0-9]+:")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
_BSKY_HANDLE = re.compile(r"(?i)\b[\w\-]+(?:\.[\w\-]+)*\.bsky\.social\b")
_PROFILE_PATH = re.compile(r"(?i)/(?:@|profile/|users?/|u/|channel/|c/)")
_SOCIAL_HOSTS = frozenset(
    {
        "x.com",
        "twitter.com",
        "facebook.com",
        "instagram.com",
        "tiktok.com",
        "threads.net",
        "bsky.app",
        "linkedin.com",
        "youtube.com",
    }
)
_CAMEL = re.compile(r"[A-Z][a-z]+|[a-z]+|[A-Z]+(?![a-z])|\d+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Common given names in the UK (ONS birth registrations and the census, across the
# communities a force serves). Enough to tell "Jake Smith" from "Westmere Carnival".
_GIVEN_NAMES = _words(
    """
aaliyah aaron abdul abigail adam adrian ahmed aidan aisha alan albert alex alexander alfie
ali alice alicia alison amanda amber amelia amir amy andrea andrew angela anna anne annie
anthony archie arthur ashley aya ayesha barbara barry ben benjamin beth bethany bilal bob
brian bradley callum cameron carl carol caroline catherine charles charlie charlotte chloe
chris christine christopher claire colin connor craig daisy daniel danielle darren david
dean deborah declan denise dennis derek diane dominic donna dylan edward eleanor elizabeth
ella ellie elliot emily emma eric erin ethan eva evie faisal fatima finley florence frances
frank freddie freya gary gavin george georgia gemma graham grace hamza hannah harper harriet
harry harvey hassan hayley heather helen henry holly hugo ian imran isaac isabel isabella
isla ivy jack jacob jade jake james jamie jane janet jasmine jason jayden jennifer jessica
jill joan joanne joe joel john jonathan jordan joseph josh joshua joy julie justin karen
kate katie kayleigh keith kelly kevin kieran kim kyle laura lauren layla leah lee leo leon
lewis liam lily linda lisa logan louis louise lucas lucy luke lydia maisie malik marcus
margaret maria mark martin mary mason matilda matthew megan melissa michael michelle mia
mohammed mohammad muhammad molly nathan neil nicholas nicola noah oliver olivia omar oscar
owen paige pamela patricia paul peter phoebe phillip poppy priya rachel rebecca reece rhys
richard riley robert robyn rose ruby ryan sally samantha samuel sandra sarah scott sean
shannon sharon shaun simon sophia sophie stacey stephen steven stuart susan teddy theo
theodore thomas toby tom tommy tony tracey tyler usman victoria william willow yusuf zac
zainab zara zoe
"""
)
# A last word like these makes a name-led phrase an event or a place ("Grace Festival",
# "Jack Straw's Castle"), not a person.
_EVENT_WORDS = _words(
    """
festival carnival fair march parade protest rally demo demonstration vigil match game
concert gig show party riot disorder fire flood storm park road street lane avenue square
bridge station centre center hall arena stadium ground church mosque temple school college
university hospital fc united city town rovers wanderers memorial appeal day night week
weekend run walk marathon
"""
)


def _reads_as_name(words: list[str]) -> bool:
    if not 2 <= len(words) <= 4 or not all(w.isalpha() for w in words):
        return False
    return words[0].lower() in _GIVEN_NAMES and words[-1].lower() not in _EVENT_WORDS


def person_reason(kind: str, query: str) -> str:
    """Why this query would watch a person ('' when it does not)."""
    text = query.strip()
    if kind == "feed":
        parts = urlsplit(text)
        host = (parts.hostname or "").lower().removeprefix("www.")
        if host in _SOCIAL_HOSTS or _PROFILE_PATH.search(parts.path or ""):
            return "this feed address is a person's or an account's profile"
        return ""
    if _HANDLE.search(text):
        return "it names an account (@handle)"
    if _OPERATORS.search(text):
        return "it uses an operator that follows an account (from:, to:, mentions:, …)"
    if _DID.search(text):
        return "it names an account's decentralised identifier (did:)"
    if _URL.search(text):
        return "it is a web address; a profile address follows a person, and a topic needs words"
    if _BSKY_HANDLE.search(text):
        return "it names a Bluesky account (handle)"
    words = _CAMEL.findall(text.lstrip("#")) if kind == "hashtag" else text.split()
    words = [w.strip("\"'“”‘’,.") for w in words]
    if _reads_as_name([w for w in words if w]):
        return "it reads as a person's name"
    for span in find_personal_data(text):
        if span.kind == "name":
            return f"it reads as a person's name ({span.value!r})"
        if span.kind != "postcode":
            label = span.kind.replace("_", " ")
            return f"it contains personal data ({label}), which points at a person"
    return ""


def _term_problem(network: str, kind: str, query: str) -> str:
    searched = known(network)
    allowed = searched.watch_kinds if searched is not None else frozenset()
    if searched is None or not allowed:
        return f"the desk cannot watch {network or 'this network'}: it offers no public search"
    if kind not in allowed:
        names = ", ".join(sorted(allowed))
        return f"a {network} watch can follow: {names}"
    text = query.strip()
    if not text:
        return "a watch needs a term to follow"
    if kind == "hashtag" and not hashtag_of(text):
        return "a hashtag watch takes one hashtag, such as #WestmereCarnival"
    if kind == "feed":
        parts = urlsplit(text)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            return "a feed watch takes the feed's full address (https://…)"
    return searched.term_problem(kind, text)


def watch_problems(
    *,
    network: str,
    kind: str,
    query: str,
    purpose: str,
    has_owner: bool,
    starts_at: dt.datetime | None,
    expires_at: dt.datetime | None,
) -> dict[str, str]:
    """Every rule a watch breaks, by field: empty when it may be saved."""
    problems: dict[str, str] = {}
    if not (purpose or "").strip():
        problems["purpose"] = (
            "A watch needs a purpose: the lawful reason for collecting, tied to the operation."
        )
    if not has_owner:
        problems["owner"] = "A watch needs an owner who answers for it."
    if expires_at is None:
        problems["expires_at"] = f"A watch needs an expiry (at most {MAX_WATCH_DAYS} days)."
    elif starts_at is not None:
        if expires_at <= starts_at:
            problems["expires_at"] = "The expiry must be after the start."
        elif expires_at - starts_at > MAX_WATCH_DURATION:
            problems["expires_at"] = (
                f"A watch runs for at most {MAX_WATCH_DAYS} days; a longer need is a new "
                "watch with its own purpose and approval."
            )
    if starts_at is None:
        problems["starts_at"] = "A watch needs a start."
    if term := _term_problem(network, kind, query):
        problems["query"] = term[0].upper() + term[1:] + "."
    elif reason := person_reason(kind, query):
        problems["query"] = f"Refused: {reason}. {PERSON_EXPLANATION}"
    return problems
