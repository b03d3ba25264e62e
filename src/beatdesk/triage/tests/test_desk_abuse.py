"""The abuse flag reads messages to a police desk: a report of a knife or a beating is not
abuse, abuse aimed at the officers is. OLID alone taught the models otherwise."""

from __future__ import annotations

import pytest

from beatdesk.triage.bundle import active_bundle
from beatdesk.triage.datasets import Examples
from beatdesk.triage.engine import read_many
from beatdesk.triage.profanity import AbuseStack, read_offensive
from beatdesk.triage.training import desk_abuse_examples

REPORTS = [
    "there's a man with a knife outside the Spar on Dudley Rd hurry!!",
    "my neighbour got beaten up outside the chippy last night, who do I talk to",
    "someone smashed my car window and took my bag, crime number please",
    "massive thanks to the officers who found my nan last night",
    "lads with a machete chasing someone down Kings Road right now",
]
ABUSE = [
    "you useless pigs, f*** the lot of you",
    "shut up you clueless bunch of muppets, total scum",
]


def test_seed_messages_are_labelled_for_abuse_by_their_contact_type() -> None:
    contact = Examples()
    for text, label in [
        ("you lot are scum", "abuse"),
        ("man with a knife", "emergency"),
        ("bike stolen", "crime_report"),
        ("worst service ever, shocking", "complaint"),
        ("lol", "other"),
        ("thank you", "compliment"),
    ]:
        contact.add({"text": text}, label)
    desk = desk_abuse_examples(contact)
    assert list(zip(desk.texts, desk.labels, strict=True)) == [
        ("you lot are scum", "OFF"),
        ("man with a knife", "NOT"),
        ("bike stolen", "NOT"),
        ("thank you", "NOT"),
    ]


def test_reports_of_violence_are_not_flagged_as_abuse_on_the_way_in() -> None:
    readings = read_many(REPORTS + ABUSE)
    assert [r.abusive for r in readings[: len(REPORTS)]] == [False] * len(REPORTS)
    assert all(r.abusive for r in readings[len(REPORTS) :])


@pytest.mark.parametrize("routing", ["uncertain", "all"])
def test_nor_once_the_stronger_model_has_read_them(routing: str) -> None:
    bundle = active_bundle()
    stack = AbuseStack.from_meta(bundle.meta.get("abuse_stack"))
    p = read_offensive(
        bundle.heads["abuse"],
        stack,
        bundle.features(REPORTS + ABUSE),
        encoder=routing,  # type: ignore[arg-type]
    ).proba
    flagged = [bool(v >= 0.5) for v in p]
    assert flagged == [False] * len(REPORTS) + [True] * len(ABUSE)
