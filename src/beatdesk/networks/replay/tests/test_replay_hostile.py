"""`beatdesk replay` on a file with bad lines: it keeps going, stores the rest, keeps each
bad line as a dead letter (its bytes as they are) and names its line and reason."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from beatdesk.inbox.models import InboundPayload, Message
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.replay.client import read_file
from beatdesk.networks.replay.command import replay
from beatdesk.testing.fuzz import hostile_bytes

pytestmark = pytest.mark.django_db
GOOD = {"id": "g-{}", "text": "recorded post {}", "created_at": "2026-03-14T10:00:0{}Z"}


def good(n: int) -> bytes:
    return json.dumps({k: v.format(n) for k, v in GOOD.items()}).encode()


def kept(payload: InboundPayload) -> bytes:
    return bytes(payload.body_bytes) if payload.body_bytes is not None else payload.body.encode()


def test_bad_lines_are_named_and_kept_and_the_rest_stored(force, tmp_path):
    """Was a traceback at the first bad line, leaving the batch's valid records unread."""
    bad_utf8 = b'{"id": "b-1", "text": "caf\xe9"}'
    lines = [
        good(1),
        bad_utf8,
        b'{"id": "s-1", "text": "half \\ud83d an emoji"}',
        b"[" * 5000 + b"]" * 5000,
        b"{not json",
        good(2),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    out = io.StringIO()
    call_command("replay", str(path), "--fast", "--no-progress", stdout=out)
    said = out.getvalue()
    assert "replayed 6 posts: 3 failed, 3 stored" in said
    assert "line 2: kept as a dead letter: not UTF-8 text" in said
    assert "line 4: kept as a dead letter: a recorded post is JSON nested too deeply" in said
    assert "line 5: kept as a dead letter: a recorded post is not JSON" in said
    assert Message.objects.filter(external_id__in=["g-1", "g-2", "s-1"]).count() == 3
    assert Message.objects.get(external_id="s-1").text == "half \ufffd an emoji"
    failed = InboundPayload.objects.filter(status="failed").order_by("pk")
    assert [kept(p) for p in failed] == [lines[1], lines[3], lines[4]]


def test_a_csv_row_that_is_not_utf8_is_kept_as_its_bytes(force, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_bytes(b"id,text\n1,fine\n2,caf\xe9\n3,also fine\n")
    records = read_file(path)
    assert [r.line for r in records] == [2, 3, 4]
    assert records[1].raw == b'{"id": "2", "text": "caf\xe9"}'
    account = NetworkAccount.objects.get(force=force, kind="replay")
    failures: list[tuple[int, str]] = []
    outcomes = replay(path, speed=None, account=account, on_failed=lambda *f: failures.append(f))
    assert outcomes == {"stored": 2, "failed": 1}
    assert failures == [(3, "not UTF-8 text: invalid continuation byte at byte 24")]


@given(data=st.data())
def test_any_file_of_lines_is_read_and_every_record_kept(force, data):
    bodies = [
        data.draw(hostile_bytes({k: v.format(n) for k, v in GOOD.items()}))
        for n in range(data.draw(st.integers(min_value=1, max_value=5)))
    ]
    lines = [b.replace(b"\n", b" ").replace(b"\r", b" ") for b in bodies]
    account = NetworkAccount.objects.get(force=force, kind="replay")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        records = read_file(path)
        before = InboundPayload.objects.count()
        outcomes = replay(path, speed=None, account=account)
    wanted = [line for line in lines if line.strip()]
    if wanted and wanted[0].startswith(b"\xef\xbb\xbf"):
        wanted[0] = wanted[0][3:]
    wanted = [line for line in wanted if line.strip()]
    assert sorted(r.raw if r.raw is not None else r.body.encode() for r in records) == sorted(
        wanted
    )
    assert sum(outcomes.values()) == len(records)
    assert InboundPayload.objects.count() == before + len(records)
