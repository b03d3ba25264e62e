"""How long after a story or a spike forms does the operation board show it?

Replays one event of a PHEME-shaped JSONL file through the demo operation's watch in a
fresh installation (its own home and SQLite database, under a temporary folder), with the
real `beatdesk serve` and `beatdesk replay FILE --watch "Carnival hashtag" --event E
--speed N`, and polls the board's live fragment as the signed-in supervisor, once a second.
A story forms when the replay stores its third post; a spike when the replay stores the
post that makes its 5-minute bucket a spike (see stories/spikes.py). Prints each story's
and spike's delay, then one JSON line:
{"event", "posts", "stories_seen", "max_story_delay_s", "spike_delay_s", ...}.

    .venv/bin/python benchmarks/board_latency.py /work/shared/data/pheme/pheme.jsonl \\
        --event germanwings-crash --speed 60 --limit 300
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="a PHEME-shaped JSONL file")
    parser.add_argument("--event", required=True, help="the event to replay (PHEME's 'event')")
    parser.add_argument("--speed", type=float, default=60.0, help="times real pace (default 60)")
    parser.add_argument("--limit", type=int, help="only the event's first N posts")
    parser.add_argument(
        "--rebase-time",
        action="store_true",
        help="pass --rebase-time to the replay (the file moved so its last post is now)",
    )
    parser.add_argument("--top", type=int, default=5, help="largest stories reported (5)")
    args = parser.parse_args()
    if not args.file.exists():
        sys.exit(f"{args.file}: no such file")

    with tempfile.TemporaryDirectory(prefix="board-latency-") as home:
        os.environ["BEATDESK_HOME"] = home
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beatdesk.settings")
        import django

        django.setup()
        from beatdesk.demo.tests.test_demo_browser import free_port, wait_for
        from beatdesk.stories.tests.test_board_replay import replay_and_watch
        from beatdesk.testing.processes import Installation

        inst = Installation(Path(home), None)
        inst.run("migrate", "-v0")
        inst.run("seed_demo")
        port = free_port()
        server = inst.start("serve", "--port", str(port))
        extra = (("--limit", str(args.limit)) if args.limit else ()) + (
            ("--rebase-time",) if args.rebase_time else ()
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(f"{base}/healthz")
            formed, seen, said = replay_and_watch(
                inst,
                base,
                args.file.resolve(),
                speed=args.speed,
                event=args.event,
                extra=extra,
                timeout=24 * 3600,
            )
        finally:
            server.terminate()
            server.wait(timeout=20)

    print(said.strip().splitlines()[-1])
    print(f"board polled {seen.polls} times")
    delays = []
    for story in formed["stories"][: args.top]:
        shown = seen.stories.get(story["id"])
        delay = None if shown is None else round(shown - story["formed"], 1)
        delays.append(delay)
        print(f"story {story['size']:>4} posts  delay {delay}s  {story['headline'][:70]!r}")
    spike_delays = []
    for spike in formed["spikes"]:
        shown = seen.spikes.get(spike["id"])
        delay = None if shown is None else round(shown - spike["formed"], 1)
        spike_delays.append(delay)
        print(f"spike on {spike['subject']} (peak {spike['peak']})  delay {delay}s")
    if not formed["spikes"]:
        print("no spike formed")
    known = [d for d in delays if d is not None]
    shown_spikes = [d for d in spike_delays if d is not None]
    print(
        json.dumps(
            {
                "event": args.event,
                "posts": formed["posts"],
                "speed": args.speed,
                "rebase_time": args.rebase_time,
                "stories_formed": len(formed["stories"]),
                "stories_seen": sum(1 for s in formed["stories"] if s["id"] in seen.stories),
                "max_story_delay_s": max(known) if known else None,
                "top_stories_not_seen": len(delays) - len(known),
                "spikes": len(formed["spikes"]),
                "spike_delay_s": min(shown_spikes) if shown_spikes else None,
            }
        )
    )


if __name__ == "__main__":
    main()
