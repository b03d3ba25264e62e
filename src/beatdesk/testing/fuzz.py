"""Hostile input for the parsers' property tests: valid-shaped deliveries from the networks'
documented payloads (networks/*/fixtures), and the same broken every way a network, a
recorded file or a person can break them.

The example budget is fixed and the examples are derived, not random, so CI repeats
itself: the "beatdesk" profile (HYPOTHESIS_PROFILE=beatdesk-long for a longer hunt).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from beatdesk.networks.email.inbound import delivery
from beatdesk.networks.facebook.webhook import split_events as meta_split
from beatdesk.networks.rss.inbound import entry_record
from beatdesk.networks.x.inbound import _page_bodies
from beatdesk.networks.x.webhook import split_events as x_split

settings.register_profile(
    "beatdesk",
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "beatdesk-long",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "beatdesk"))

NETWORKS = Path(__file__).resolve().parent.parent / "networks"

# Text a network really sends and the text that breaks storage: a lone surrogate (half an
# emoji), NUL and other controls, right-to-left marks, emoji whole.
awkward_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["\udcff", "\ud83d", "\ude00", "a\x00b", "\u202e", "😀", "\r\n", "", " ", "²", "0" * 40]
    ),
    st.text(
        alphabet=st.one_of(st.characters(), st.characters(categories=["Cs"]), st.just("\x00")),
        max_size=20,
    ),
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    awkward_text,
)


def nested(depth: int) -> str:
    """JSON nested deeper than any parser follows."""
    return "[" * depth + "]" * depth


def fixture(path: str) -> Any:
    return json.loads((NETWORKS / path).read_text(encoding="utf-8"))


def _leaf_paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaf_paths(v, (*here, k))] or [here]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaf_paths(v, (*here, i))] or [here]
    return [here]


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _set(value[head], rest, new)}
    copy = list(value)
    copy[head] = _set(copy[head], rest, new)
    return copy


def _drop(value: Any, path: tuple[Any, ...]) -> Any:
    if len(path) == 1:
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if k != path[0]}
        return [v for i, v in enumerate(value) if i != path[0]]
    head = path[0]
    if isinstance(value, dict):
        return {**value, head: _drop(value[head], path[1:])}
    copy = list(value)
    copy[head] = _drop(copy[head], path[1:])
    return copy


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """The documented payload with a few of its fields replaced by awkward values or
    wrong types, or left out."""
    value = base
    paths = [p for p in _leaf_paths(base) if p]
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        path = draw(st.sampled_from(paths))
        how = draw(st.sampled_from(["replace", "replace", "drop", "wrong type"]))
        try:
            if how == "drop":
                value = _drop(value, path)
            elif how == "wrong type":
                value = _set(value, path, draw(st.sampled_from([[], {}, [1, [2]], {"a": None}])))
            else:
                value = _set(value, path, draw(json_scalars))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this path
    return value


def as_body(value: Any, ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only)


@st.composite
def hostile_bytes(draw: st.DrawFn, base: Any) -> bytes:
    """A delivery's bytes: the documented payload mutated, then perhaps broken as bytes
    (cut short, an invalid UTF-8 byte, a NUL, nested too deep, not JSON at all)."""
    kind = draw(
        st.sampled_from(
            ["valid", "mutated", "mutated", "truncated", "bad utf-8", "nul", "nested", "junk"]
        )
    )
    if kind == "nested":
        return nested(draw(st.sampled_from([50, 5_000, 200_000]))).encode()
    if kind == "junk":
        return draw(st.binary(max_size=200))
    value = base if kind == "valid" else draw(mutated(base))
    data = as_body(value, draw(st.booleans())).encode("utf-8", "surrogatepass")
    if kind == "truncated":
        return data[: draw(st.integers(min_value=0, max_value=len(data)))]
    if kind == "bad utf-8":
        at = draw(st.integers(min_value=0, max_value=len(data)))
        return (
            data[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80"]))
            + data[at:]
        )
    if kind == "nul":
        at = draw(st.integers(min_value=0, max_value=len(data)))
        return data[:at] + b"\x00" + data[at:]
    return data


def documented_payloads() -> dict[str, list[Any]]:
    """Each connector's delivery bodies (as JSON values), built from the networks' own
    fixtures by the connectors' own splitting and fetching code."""
    import feedparser

    def split(fn: Any, *names: str) -> list[Any]:
        return [json.loads(b) for n in names for b in fn((NETWORKS / n).read_bytes())]

    meta = split(
        meta_split,
        "facebook/fixtures/webhook_feed_comment.json",
        "facebook/fixtures/webhook_messenger_message.json",
    )
    instagram = split(
        meta_split,
        "facebook/fixtures/webhook_instagram_comment.json",
        "facebook/fixtures/webhook_instagram_message.json",
    )
    feeds = []
    for name in ("westmere_gazette_rss.xml", "westmere_council_atom.xml"):
        parsed = feedparser.parse((NETWORKS / "rss" / "fixtures" / name).read_bytes())
        feeds += [entry_record(parsed.feed, entry) for entry in parsed.entries[:2]]
    emails = [
        json.loads(delivery(n, 7, (NETWORKS / "email" / "fixtures" / name).read_bytes()))
        for n, name in enumerate(["resident_plain.eml", "with_attachment.eml"], start=1)
    ]
    return {
        "x": [
            *split(x_split, "x/fixtures/webhook_tweet_create.json", "x/fixtures/webhook_dm.json"),
            *[
                json.loads(b)
                for b in _page_bodies(fixture("x/fixtures/mentions_page1.json")).values()
            ][:2],
        ],
        "facebook": meta,
        "instagram": instagram,
        "mastodon": [
            *fixture("mastodon/fixtures/notifications.json")[:2],
            fixture("mastodon/fixtures/status_created.json"),
        ],
        "bluesky": fixture("bluesky/fixtures/list_notifications_page1.json")["notifications"][:3],
        "rss": feeds,
        "email": emails,
        "webform": [
            {
                "id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                "name": "Sam",
                "reply_email": "sam@example.com",
                "message": "Someone keeps dumping rubbish behind the shops",
                "submitted_at": "2024-05-16T09:12:44Z",
            }
        ],
        "replay": [
            {
                "id": "rec-1",
                "text": "There's a knife fight outside the Crown pub right now",
                "author": "sam_w",
                "created_at": "2024-05-16T09:12:44Z",
                "network": "x",
                "lang": "en",
                "attachments": [{"type": "photo", "url": "https://example.org/a.jpg"}],
            }
        ],
    }


@st.composite
def hostile_email(draw: st.DrawFn) -> bytes:
    """An email delivery whose message bytes are broken (bad bytes, NULs, cut short)."""
    raw = (NETWORKS / "email" / "fixtures" / "resident_plain.eml").read_bytes()
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        at = draw(st.integers(min_value=0, max_value=len(raw)))
        junk = draw(st.sampled_from([b"\xff", b"\x00", b"\xed\xa0\x80", b"=?utf-8?b?7aCA?=", b""]))
        raw = raw[:at] + junk + raw[at + draw(st.integers(min_value=0, max_value=5)) :]
    return delivery(1, 7, raw).encode()
