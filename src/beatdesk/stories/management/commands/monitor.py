"""`beatdesk monitor eval FILE`: replay a PHEME-shaped file through story clustering and
rumour-candidate proposal (in memory, nothing written) and score the candidates.

Unit: the PHEME thread (each record is a thread's source tweet, labelled rumour or
non-rumour). A thread is flagged when its story is a rumour candidate by the end of the
replay; "on_arrival" counts it only if its story already was one when it arrived.
precision = flagged rumours / flagged threads, recall = flagged rumours / rumour threads.
Threads whose text the scoring model's rumour head trained on are left out (counted in
left_out_trained); an asked-for event wholly in training is refused.
The last line printed is JSON: n, stories, candidates, precision, recall, f1, msgs_per_s
(clustering plus the rumour signal, one process), left_out_trained, with more detail before.

`beatdesk monitor idf` rebuilds the shipped IDF table from general tweets (not PHEME).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from beatdesk.stories.engine import IDF_PATH, Idf
from beatdesk.stories.evaluation import ReplayError, read, replay, unseen
from beatdesk.triage.bundle import ModelMissing, active_bundle, load_bundle

EVAL_HELP = (
    "Replays the file in time order through story clustering and rumour-candidate proposal, "
    "in memory. Unit: the PHEME thread (each record is a thread's source tweet, labelled "
    "rumour or non-rumour). A thread is flagged when its story is a rumour candidate by the "
    "end of the replay (on_arrival: already when it arrived). precision = flagged rumours / "
    "flagged; recall = flagged rumours / rumours. Threads the scoring model trained on are left "
    "out (left_out_trained); an event wholly in training is refused. Prints JSON last: n, "
    "stories, candidates, precision, recall, f1, msgs_per_s, left_out_trained. See "
    "stories/EVALUATION.md."
)
IDF_SOURCES = (
    "crisislex_t26/crisislex_t26.jsonl",
    "olid/olid_train.jsonl",
    "davidson_hate/davidson_hate.jsonl",
)


class Command(BaseCommand):
    help = __doc__ or ""

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        ev = sub.add_parser(
            "eval",
            help="replay a PHEME-shaped JSONL file in time order and score rumour candidates "
            "against its labels (unit: the thread; flagged = its story is a candidate by the "
            "end of the replay). Last line: JSON.",
            description=EVAL_HELP,
        )
        ev.add_argument("file", type=Path)
        ev.add_argument("--events", default="", help="only these events, comma-separated")
        ev.add_argument(
            "--model",
            type=Path,
            default=None,
            help="a model file other than this installation's active one",
        )
        ev.add_argument("--no-progress", action="store_true")
        idf = sub.add_parser("idf", help="rebuild the shipped IDF table from general tweets")
        idf.add_argument("--data", type=Path, default=Path("../shared/data"))

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['what']}")(options)

    def _eval(self, options: dict[str, Any]) -> None:
        from rich.progress import Progress

        events = {e.strip() for e in options["events"].split(",") if e.strip()} or None
        try:
            records = read(options["file"], events)
            # Loaded before the clock starts.
            bundle = load_bundle(options["model"]) if options["model"] else active_bundle()
            records, left_out = unseen(records, bundle, events)
        except (ReplayError, ModelMissing) as exc:
            raise CommandError(str(exc)) from exc
        if left_out:
            self.stderr.write(f"left out {left_out} threads the scoring model was trained on")
        with Progress(disable=options["no_progress"], transient=True) as progress:
            task = progress.add_task("Replaying", total=len(records))
            result = replay(records, progress=lambda n: progress.advance(task, n), bundle=bundle)
        self.stdout.write(json.dumps({**result, "left_out_trained": left_out}))

    def _idf(self, options: dict[str, Any]) -> None:
        paths = [options["data"] / name for name in IDF_SOURCES]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise CommandError(f"missing data files: {', '.join(missing)}")

        def texts() -> Any:
            for path in paths:
                with path.open(encoding="utf-8") as lines:
                    for line in lines:
                        yield json.loads(line)["text"]

        idf = Idf.fit(texts())
        idf.save(IDF_PATH)
        self.stdout.write(f"{len(idf.weights)} terms written to {IDF_PATH}")
