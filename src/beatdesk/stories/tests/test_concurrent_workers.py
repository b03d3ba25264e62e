"""Two processes clustering into the same operation at once (two replays into one watch,
as two workers would): every post is counted once, and each story's size is the number of
posts it holds — no worker overwrote another's totals."""

from __future__ import annotations

import json

import pytest

from beatdesk.stories.tests.test_board_replay import shell_json
from beatdesk.testing.processes import installation

pytestmark = pytest.mark.slow

TOLD = [
    "Is it true the parade is cancelled after a stabbing?? #WestmereCarnival",
    "parade cancelled because of a stabbing?? anyone know #WestmereCarnival",
    "Heard the parade's off, someone got stabbed? #WestmereCarnival",
    "Road closed at the High St for the parade #WestmereCarnival",
    "High St closed for the parade, use Canal Rd #WestmereCarnival",
]


def write(path, prefix: str, n: int) -> None:
    with path.open("w") as out:
        for i in range(n):
            minute, second = divmod(i, 60)
            out.write(
                json.dumps(
                    {
                        "id": f"{prefix}-{i}",
                        "text": f"{TOLD[i % len(TOLD)]} {prefix}{i}",
                        "created_at": f"2026-03-14T14:{minute:02d}:{second:02d}Z",
                    }
                )
                + "\n"
            )


def test_two_replays_into_one_watch_count_every_post_once(tmp_path):
    write(tmp_path / "a.jsonl", "a", 600)
    write(tmp_path / "b.jsonl", "b", 600)
    with installation(tmp_path) as inst:
        inst.migrate()
        inst.run("seed_demo")
        replays = [
            inst.start(
                "replay", str(tmp_path / f"{name}.jsonl"), "--watch", "Carnival hashtag", "--fast"
            )
            for name in ("a", "b")
        ]
        for replay in replays:
            said = replay.communicate(timeout=120)[0]
            assert replay.returncode == 0, said
        counts = shell_json(
            inst,
            "import json\n"
            "from django.db.models import Count, Sum\n"
            "from beatdesk.stories.models import Story, StoryMember\n"
            "rows = Story.objects.filter(operation__isnull=False).annotate(n=Count('members'))\n"
            "print(json.dumps({'members': StoryMember.objects.count(),\n"
            "  'sizes': rows.aggregate(s=Sum('size'))['s'],\n"
            "  'wrong': [[s.pk, s.size, s.n] for s in rows if s.size != s.n]}))",
        )
    assert counts == {"members": 1200, "sizes": 1200, "wrong": []}
