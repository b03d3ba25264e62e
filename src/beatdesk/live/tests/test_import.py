"""`beatdesk live import`: a day's incident log becomes numbered, redacted posts awaiting
approval on every event account; bad rows are named and nothing is half-written; importing
the same log again adds nothing."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from beatdesk.live.entries import LONDON
from beatdesk.live.models import LiveEntry
from beatdesk.live.sample_log import generate, write_csv
from beatdesk.publishing.checks import LIMITS, count_characters
from beatdesk.publishing.models import Post

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample_incident_log.csv"
HEADER = "time,type,location,summary,outcome\n"


def log_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "log.csv"
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("live", *args, stdout=out)
    return out.getvalue()


def test_a_days_log_of_3000_entries_is_numbered_redacted_and_queued(event, tmp_path):
    rows = generate(3000)
    path = tmp_path / "wmp24.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        write_csv(rows, out)

    said = run("import", "wmp24", str(path))

    assert "3000 entries added" in said and "numbers 1-3000" in said
    entries = list(LiveEntry.objects.filter(event=event).order_by("number"))
    assert [e.number for e in entries] == list(range(1, 3001))
    posts = Post.objects.filter(live_entries__event=event)
    assert posts.count() == 9000
    assert set(posts.values_list("status", "kind").distinct()) == {("awaiting_approval", "live")}
    for entry, row in zip(entries, rows, strict=True):
        assert entry.text.startswith(f"#wmp24 {entry.number}: {row.record['time']} ")
        for kind, value in row.planted:
            if kind in ("phone", "email", "vehicle_registration", "date_of_birth"):
                assert value not in entry.text
        assert count_characters(entry.text, "x") <= LIMITS["x"]
        assert entry.summary == row.record["summary"]  # the log line is kept as it came


def test_importing_the_same_log_again_adds_nothing(event, tmp_path):
    path = tmp_path / "log.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        write_csv(generate(50), out)
    run("import", str(event.pk), str(path))
    said = run("import", str(event.pk), str(path))
    assert "0 entries added" in said and "50 already imported" in said
    assert event.entries.count() == 50
    assert Post.objects.filter(live_entries__event=event).count() == 150


def test_a_longer_log_adds_only_its_new_rows_numbered_on(event, tmp_path):
    rows = generate(30)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    with first.open("w", newline="") as out:
        write_csv(rows[:20], out)
    with second.open("w", newline="") as out:
        write_csv(rows, out)
    run("import", "#wmp24", str(first))
    said = run("import", "#wmp24", str(second))
    assert "10 entries added" in said and "numbers 21-30" in said


def test_the_entry_reads_like_the_stream(event, tmp_path):
    path = log_file(
        tmp_path,
        HEADER + '14:32,Concern for welfare,"14 Dudley Road, Kings Heath",'
        '"John Smith, 80, seen walking in the road",Officers found the man safe and took him '
        "home\n",
    )
    run("import", "wmp24", str(path))
    entry = event.entries.get()
    assert entry.text == (
        "#wmp24 1: 14:32 concern for welfare, Kings Heath: a man seen walking in the road — "
        "officers found the man safe and took him home"
    )
    assert entry.occurred_at == dt.datetime(2024, 11, 22, 14, 32, tzinfo=LONDON)


def test_times_after_midnight_roll_to_the_next_day_and_iso_times_are_taken(event, tmp_path):
    path = log_file(
        tmp_path,
        HEADER + "23:58,Noise,Canal Side,,\n00:04,Noise,Canal Side,,\n"
        "2024-11-22T09:15,Noise,Canal Side,,\n2024-11-22T09:20:00Z,Noise,Canal Side,,\n",
    )
    run("import", "wmp24", str(path))
    times = [e.occurred_at.astimezone(LONDON) for e in event.entries.order_by("number")]
    assert times == [
        dt.datetime(2024, 11, 22, 23, 58, tzinfo=LONDON),
        dt.datetime(2024, 11, 23, 0, 4, tzinfo=LONDON),
        dt.datetime(2024, 11, 22, 9, 15, tzinfo=LONDON),
        dt.datetime(2024, 11, 22, 9, 20, tzinfo=dt.UTC),
    ]


def test_bad_rows_are_named_by_line_and_column_and_nothing_is_written(event, tmp_path):
    path = log_file(
        tmp_path,
        HEADER + "14:32,Noise,Canal Side,music,advice given\n"
        "25:61,Noise,Canal Side,music,advice given\n"
        "14:40,,Canal Side,music,advice given\n"
        "2024-12-25T10:00,Noise,Canal Side,music,advice given\n",
    )
    with pytest.raises(CommandError) as failure:
        run("import", "wmp24", str(path))
    message = str(failure.value)
    assert "nothing was written" in message
    assert "line 3 (row 2), column time: '25:61' is not a time" in message
    assert "line 4 (row 3), column type: is empty" in message
    assert "line 5 (row 4), column time:" in message and "outside the event" in message
    assert not event.entries.exists() and not Post.objects.exists()


def test_a_missing_column_is_named(event, tmp_path):
    path = log_file(tmp_path, "time,type,location,summary\n14:32,Noise,Canal Side,music\n")
    with pytest.raises(CommandError, match="missing column\\(s\\) outcome"):
        run("import", "wmp24", str(path))


def test_an_unknown_event_or_file_is_named(event, tmp_path):
    with pytest.raises(CommandError, match="no live event 'bsp99'"):
        run("import", "bsp99", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="no such file"):
        run("import", "wmp24", str(tmp_path / "x.csv"))


def test_the_sample_log_shipped_for_the_demo_imports(event):
    said = run("import", "wmp24", str(SAMPLE))
    assert "entries added" in said
    assert event.entries.count() == sum(1 for _ in SAMPLE.open()) - 1


def test_create_prints_the_token_once_and_keeps_only_its_digest(force):
    said = run(
        "create",
        "--name",
        "Birmingham South 24",
        "--hashtag",
        "bsp24",
        "--starts",
        "2024-11-22T05:00",
        "--account",
        "@WestmerePolice",
    )
    token = said.strip().splitlines()[-1]
    from beatdesk.live.models import LiveEvent

    event = LiveEvent.objects.get(hashtag="#bsp24")
    assert len(token) > 30 and token not in event.intake_token_hash
    summary = run("summary", "bsp24")
    assert "entries 0" in summary


def test_the_log_can_be_imported_from_the_event_page(event, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    client = client_for("dana.desk")
    upload = SimpleUploadedFile("log.csv", SAMPLE.read_bytes(), content_type="text/csv")
    response = client.post(reverse("live:upload", args=[event.pk]), {"log": upload}, follow=True)
    assert "entries added, awaiting approval" in response.content.decode()
    assert event.entries.exists()
    bad = SimpleUploadedFile("bad.csv", HEADER.encode() + b"99:99,Noise,,,\n")
    response = client.post(reverse("live:upload", args=[event.pk]), {"log": bad}, follow=True)
    assert "line 2 (row 1), column time" in response.content.decode()
