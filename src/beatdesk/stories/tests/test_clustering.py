"""Stories: near-duplicates and paraphrases join one story, unrelated posts do not, and a
fast-growing story told with questions and denials is proposed as a rumour."""

from __future__ import annotations

import datetime as dt

from beatdesk.stories.engine import Post, StoryEngine, normalise

T0 = dt.datetime(2026, 8, 29, 14, 0, tzinfo=dt.UTC)


def post(n: int, text: str, minutes: float = 0, rumour: float = 0.0, cues: int = 0) -> Post:
    return Post(n, text, T0 + dt.timedelta(minutes=minutes), "x", "en", rumour, cues)


def test_retweets_and_paraphrases_join_one_story_and_unrelated_posts_do_not() -> None:
    engine = StoryEngine()
    text = "Tiger loose in Westmere Park near the zoo, stay inside #WestmereRiots"
    first = engine.add(post(1, text))
    retweet = engine.add(post(2, f"RT @newsbot: {text}"))
    paraphrase = engine.add(post(3, "a tiger is loose near Westmere zoo?? park closed #riots"))
    unrelated = engine.add(post(4, "Lovely sunny afternoon for the carnival parade on Dudley Road"))
    other = engine.add(post(5, "Bus diverted away from the high street because of roadworks"))

    assert first.created
    assert retweet.story is first.story and retweet.similarity == 1.0
    assert paraphrase.story is first.story
    assert unrelated.story is not first.story and unrelated.created
    assert other.story not in (first.story, unrelated.story)
    story = first.story
    assert story.size == 3
    assert story.first_seen == T0
    # The retweet is the same phrasing as the first post: counted twice, listed once.
    assert story.top_phrasings()[0][2] == 2
    assert story.networks == {"x": 3}


def test_normalising_strips_links_handles_and_retweet_prefix_but_keeps_hashtags() -> None:
    text = "RT @bob: Is it true?! https://t.co/xyz @WMPolice #Tiger"
    assert normalise(text).split() == ["is", "it", "true?!", "#tiger"]


def test_a_fast_growing_story_asking_and_hedging_is_proposed_as_a_rumour() -> None:
    engine = StoryEngine()
    told = [
        "Is it true a tiger escaped from Westmere zoo?",
        "apparently a tiger escaped from Westmere zoo, can anyone confirm?",
        "Heard a tiger escaped from the zoo in Westmere, is this real?",
        "tiger escaped westmere zoo?? unconfirmed",
    ]
    done = [engine.add(post(i, t, minutes=i, rumour=0.6, cues=2)) for i, t in enumerate(told)]
    story = done[0].story
    assert all(d.story is story for d in done)
    assert story.candidate_since == T0 + dt.timedelta(minutes=2)  # at its third post


def test_a_plain_story_or_a_slow_one_is_not_proposed() -> None:
    engine = StoryEngine()
    plain = [
        "Carnival parade starts at 2pm on Dudley Road",
        "The carnival parade starts on Dudley Road at 2pm today",
        "Dudley Road carnival parade starts 2pm",
    ]
    done = [engine.add(post(i, t, minutes=i, rumour=0.1)) for i, t in enumerate(plain)]
    assert done[0].story.candidate_since is None

    slow = StoryEngine()
    hedged = [
        "Is it true the bridge on Canal Street collapsed?",
        "apparently the Canal Street bridge collapsed?",
        "heard the bridge on Canal Street collapsed, can anyone confirm?",
    ]
    # One post every two hours: never two within the growth window, so not spreading.
    done = [slow.add(post(i, t, minutes=120 * i, rumour=0.7, cues=2)) for i, t in enumerate(hedged)]
    assert done[0].story.size == 3
    assert done[0].story.candidate_since is None


def test_quiet_stories_leave_the_index() -> None:
    engine = StoryEngine()
    engine.add(post(1, "Tiger loose in Westmere Park near the zoo"))
    engine.expire(T0 + dt.timedelta(hours=1))
    later = engine.add(post(2, "Tiger loose in Westmere Park near the zoo", minutes=420))
    assert later.created
