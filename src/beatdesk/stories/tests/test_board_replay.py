"""Issue 7: replaying an incident at sixty times its pace, the operation board shows the
spike and the largest stories within a minute of each forming.

The helpers here are shared with benchmarks/board_latency.py: a real `beatdesk serve`,
a real `beatdesk replay FILE --watch NAME --speed N`, and the board's live fragment
polled over HTTP as the supervisor's browser would. A story has *formed* when the replay
delivered (stored) the post that brought it to the board's story size (three posts: a
story told three times); a spike has formed when the replay delivered the post that made
its bucket a spike. Each is *seen* at the first poll of the board that shows it.

The incident is dated in the past, like a public dataset, and replayed with
--rebase-time as the README says: the whole file moves so that its last post is now,
keeping the posts' spacing, so spikes (counted in 5-minute buckets of the posts' own
times) form as they did on the day.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from beatdesk.demo.tests.test_demo_browser import free_port, wait_for
from beatdesk.testing.processes import Installation, installation

pytestmark = pytest.mark.slow

STORY_SIZE = 3  # posts before a group of posts counts as a story on the board
WATCH = "Carnival hashtag"
_STORY_ROW = re.compile(r'<tr data-story-id="(\d+)"><td>.*?</td><td>(\d+)</td>', re.S)
_SPIKE_ROW = re.compile(r'<tr data-spike-id="(\d+)">')


# --- a PHEME-shaped synthetic incident -------------------------------------------------

# Three stories, each told in paraphrased variants (who / what / where vary).
STORIES = {
    "crush": (
        ["Crush", "Dangerous crush", "Serious crush", "Big crush"],
        [
            "at the Market Square barriers",
            "by the Market Square barriers",
            "at the square barriers",
        ],
        [
            "people fainting",
            "two people have fainted",
            "folk fainting in the heat",
            "ambulance called",
        ],
    ),
    "stabbing": (
        ["Is it true", "Hearing", "Unconfirmed:", "Anyone know if"],
        [
            "the parade was cancelled after a stabbing",
            "they cancelled the parade over a stabbing",
            "parade cancelled because someone was stabbed",
        ],
        ["near the bandstand?", "by the bandstand??", "at the bandstand - can anyone confirm?"],
    ),
    "roads": (
        ["High Street closed", "Road closure on the High Street", "High St shut to traffic"],
        ["until 8pm", "till eight tonight", "until 8 this evening"],
        ["for the parade route", "as the parade goes through", "buses diverted via Mill Lane"],
    ),
}
_NOISE_WORDS = [
    "lovely",
    "costumes",
    "sunshine",
    "steel",
    "band",
    "dancing",
    "float",
    "glitter",
    "samba",
    "drummers",
    "ice",
    "cream",
    "face",
    "paint",
    "queue",
    "toilets",
    "burger",
    "van",
    "balloons",
    "grandma",
    "photos",
    "feathers",
    "whistle",
    "sequins",
    "lemonade",
    "candyfloss",
    "stilt",
    "walker",
    "puppets",
    "confetti",
    "sunburn",
    "trumpet",
    "bunting",
    "fireworks",
    "pushchair",
    "picnic",
    "raffle",
    "mascot",
    "kazoo",
    "ferris",
    "wheel",
    "tombola",
    "doughnuts",
    "jugglers",
    "parrot",
    "umbrella",
    "bubbles",
    "lanterns",
    "choir",
    "poncho",
    "scooter",
    "hotdog",
    "bouncy",
    "castle",
    "glowsticks",
]


def _tweet(rng: random.Random, n: int, at: dt.datetime, text: str, event: str) -> dict[str, Any]:
    return {
        "id": str(700000000000000000 + n),
        "event": event,
        "created_at": format_datetime(at).replace("-0000", "+0000"),
        "text": text,
        "label": "rumour" if "stab" in text else "non-rumour",
        "veracity": "false" if "stab" in text else "",
        "lang": "en",
        "retweet_count": rng.randint(0, 40),
        "in_reply_to_status_id": None,
    }


def _told(rng: random.Random, story: str) -> str:
    parts = [rng.choice(options) for options in STORIES[story]]
    return " ".join(parts) + " #WestmereCarnival"


def _noise(rng: random.Random) -> str:
    return " ".join(rng.sample(_NOISE_WORDS, 5)) + rng.choice(["!", " :)", "", " x"])


def incident(
    path: Path, *, start: dt.datetime, event: str = "westmere-carnival", seed: int = 7
) -> list[dict[str, Any]]:
    """Write ~40 minutes of a carnival afternoon as a PHEME JSONL file: 30 quiet minutes
    (about one post a minute of chatter, the road closure told now and then) then a burst
    (the crush and the stabbing rumour, told over and over); the records, in time order."""
    rng = random.Random(seed)
    timeline: list[tuple[float, str]] = []
    for minute in range(30):  # the quiet baseline
        timeline.append((minute * 60 + rng.uniform(0, 50), _noise(rng)))
        if minute % 6 == 3:
            timeline.append((minute * 60 + rng.uniform(0, 50), _told(rng, "roads")))
    for i in range(260):  # the burst, minutes 30–42, thickest at the start
        second = 1800 + 720 * (i / 260) ** 1.6
        which = rng.choices(["crush", "stabbing", "roads", None], weights=[9, 6, 2, 2])[0]
        timeline.append((second, _told(rng, which) if which else _noise(rng)))
    timeline.sort()
    records = [
        _tweet(rng, n, start + dt.timedelta(seconds=s), text, event)
        for n, (s, text) in enumerate(timeline)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return records


# --- driving an installation ----------------------------------------------------------


def shell_json(inst: Installation, code: str) -> Any:
    """Run Python in the installation (`beatdesk shell -c`) and read its last line as JSON."""
    out = inst.run("shell", "-c", code).stdout
    return json.loads(out.strip().splitlines()[-1])


def supervisor_session(inst: Installation) -> tuple[str, str, int]:
    """A signed-in session (password and second factor passed) for the demo supervisor:
    (cookie name, cookie value, the operation's id)."""
    return tuple(
        shell_json(
            inst,
            "import json\n"
            "from django.conf import settings\n"
            "from beatdesk.accounts.models import User\n"
            "from beatdesk.monitoring.models import Watch\n"
            "from beatdesk.testing.fixtures import signed_in\n"
            "c = signed_in(User.objects.get(username='sgt.hughes'))\n"
            "name = settings.SESSION_COOKIE_NAME\n"
            f"op = Watch.objects.get(name={WATCH!r}).operation_id\n"
            "print(json.dumps([name, c.cookies[name].value, op]))",
        )
    )


@dataclass
class BoardWatch:
    """When each story (at story size) and each spike was first on the board."""

    stories: dict[int, float] = field(default_factory=dict)
    spikes: dict[int, float] = field(default_factory=dict)
    polls: int = 0

    def look(self, html: str, at: float) -> None:
        self.polls += 1
        for story_id, size in _STORY_ROW.findall(html):
            if int(size) >= STORY_SIZE:
                self.stories.setdefault(int(story_id), at)
        for spike_id in _SPIKE_ROW.findall(html):
            self.spikes.setdefault(int(spike_id), at)


def watch_board(
    base: str,
    operation: int,
    cookie: tuple[str, str],
    replay: subprocess.Popen[str],
    *,
    every: float = 1.0,
    timeout: float = 600,
) -> BoardWatch:
    """Poll the board's live fragment until the replay has finished (and once after)."""
    seen = BoardWatch()
    url = f"{base}/stories/operations/{operation}/board/live/"
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url, headers={"Cookie": f"{cookie[0]}={cookie[1]}", "HX-Request": "true"}
    )
    deadline = time.monotonic() + timeout
    while True:
        finished = replay.poll() is not None
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            assert response.status == 200, response.status
            seen.look(response.read().decode("utf-8"), time.time())
        if finished:
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"the replay did not finish within {timeout}s")
        time.sleep(every)


# Run in the installation after the replay: when each story and spike formed (the wall-clock
# moment the replay stored the post that made it), and the stories' own words.
FORMATION = """
import json
from beatdesk.monitoring.models import WatchPost
from beatdesk.stories import spikes as sp
from beatdesk.stories.engine import hashtags
from beatdesk.stories.models import Spike, Story, StoryMember

SIZE = {size}
stories = []
for story in Story.objects.filter(operation__isnull=False, size__gte=SIZE).order_by("-size"):
    members = (StoryMember.objects.filter(story=story).select_related("watch_post")
               .order_by("watch_post__collected_at"))
    made = members[SIZE - 1].watch_post.collected_at
    stories.append({{"id": story.pk, "size": story.size, "headline": story.headline,
                    "formed": made.timestamp()}})

out = []
for spike in Spike.objects.all():
    kind, _, value = spike.key.partition(":")
    posts = WatchPost.objects.filter(watch__operation=spike.operation)
    if kind == "watch":
        posts = posts.filter(watch_id=int(value))
    posts = [p for p in posts.order_by("posted_at")
             if kind == "watch" or value in [t[:100] for t in hashtags(p.text)]]
    counts = {{}}
    for p in posts:
        counts[sp.bucket_of(p.posted_at)] = counts.get(sp.bucket_of(p.posted_at), 0) + 1
    start = spike.started_at
    first = min(counts)
    history = [counts.get(start - i * sp.BUCKET, 0) for i in range(1, sp.BASELINE_BUCKETS + 1)
               if start - i * sp.BUCKET >= first]
    in_bucket = sorted((p for p in posts if sp.bucket_of(p.posted_at) == start),
                       key=lambda p: p.collected_at)
    formed = in_bucket[-1].collected_at.timestamp()
    for n, p in enumerate(in_bucket, 1):
        if n >= sp.MIN_POSTS and sp.robust_z(history, n)[0] >= sp.MIN_SCORE:
            formed = p.collected_at.timestamp()
            break
    out.append({{"id": spike.pk, "subject": spike.subject, "peak": spike.peak,
                "formed": formed}})
print(json.dumps({{"stories": stories, "spikes": out, "posts": WatchPost.objects.count()}}))
"""


def formation(inst: Installation) -> dict[str, Any]:
    result: dict[str, Any] = shell_json(inst, FORMATION.format(size=STORY_SIZE))
    return result


def replay_and_watch(
    inst: Installation,
    base: str,
    file: Path,
    *,
    speed: float,
    event: str,
    extra: tuple[str, ...] = (),
    timeout: float = 600,
) -> tuple[dict[str, Any], BoardWatch, str]:
    """Replay the event through the demo watch while polling the board; what formed, what
    the board showed and when, and what the replay said."""
    name, value, operation = supervisor_session(inst)
    replay = inst.start(
        "replay",
        str(file),
        "--watch",
        WATCH,
        "--event",
        event,
        "--speed",
        str(speed),
        "--no-progress",
        *extra,
    )
    try:
        seen = watch_board(base, operation, (name, value), replay, timeout=timeout)
    finally:
        if replay.poll() is None:
            replay.kill()
        said = replay.communicate(timeout=30)[0]
    assert replay.returncode == 0, said
    return formation(inst), seen, said


# --- the test --------------------------------------------------------------------------

SPEED = 60
WITHIN = 60.0  # seconds: "within a minute of each forming"
TOLD = {"crush": "crush", "stabbing": "stab", "roads": "high st"}


def test_the_board_shows_the_spike_and_the_largest_stories_within_a_minute(tmp_path):
    file = tmp_path / "westmere-carnival.jsonl"
    start = dt.datetime(2015, 3, 24, 10, 0, tzinfo=dt.UTC)
    records = incident(file, start=start)
    with installation(tmp_path) as inst:
        inst.migrate()
        inst.run("seed_demo")
        port = free_port()
        server = inst.start("serve", "--port", str(port))
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(f"{base}/healthz")
            formed, seen, said = replay_and_watch(
                inst,
                base,
                file,
                speed=SPEED,
                event="westmere-carnival",
                extra=("--rebase-time",),
                timeout=150,
            )
        finally:
            server.terminate()
            server.wait(timeout=20)

    assert f"replayed {len(records)} posts" in said and f"{len(records)} stored" in said, said
    assert formed["posts"] == len(records)
    largest = formed["stories"][:3]
    told = sorted(
        next(name for name, word in TOLD.items() if word in s["headline"].lower()) for s in largest
    )
    assert told == ["crush", "roads", "stabbing"], largest
    for story in largest:
        assert story["id"] in seen.stories, f"never on the board: {story}"
        delay = seen.stories[story["id"]] - story["formed"]
        assert delay <= WITHIN, f"{story['headline']!r} on the board {delay:.0f}s after forming"
    assert formed["spikes"], "the burst made no spike"
    for spike in formed["spikes"]:
        assert spike["id"] in seen.spikes, f"never on the board: {spike}"
        delay = seen.spikes[spike["id"]] - spike["formed"]
        assert delay <= WITHIN, f"spike on {spike['subject']} shown {delay:.0f}s after forming"
