"""The abuse reading: the OLID head with the profanity model's second opinion."""

from __future__ import annotations

import numpy as np

from beatdesk.triage.bundle import active_bundle
from beatdesk.triage.engine import read_many
from beatdesk.triage.profanity import AbuseStack


def test_the_shipped_models_combine_both_opinions():
    stack = AbuseStack.from_meta(active_bundle().meta.get("abuse_stack"))
    assert stack is not None
    assert AbuseStack.from_meta(stack.to_meta()) == stack


def test_insults_are_flagged_and_thanks_are_not():
    insult, thanks = read_many(
        ["you useless pigs are a fucking joke, piss off", "thank you officers, you were brilliant"]
    )
    assert insult.abusive and insult.abuse_score > 0.8
    assert not thanks.abusive and thanks.abuse_score < 0.3


def test_the_stack_rises_with_either_opinion():
    stack = AbuseStack.fit(
        np.array([0.1, 0.2, 0.8, 0.9, 0.3, 0.7]),
        np.array([0.1, 0.3, 0.9, 0.8, 0.6, 0.4]),
        np.array([False, False, True, True, False, True]),
    )
    low, high_head, high_both = stack.proba(np.array([0.1, 0.9, 0.9]), np.array([0.1, 0.1, 0.9]))
    assert low < high_head <= high_both
