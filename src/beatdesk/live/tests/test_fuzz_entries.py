"""Live entries on hostile input: the command-and-control POST and the incident-log CSV.
An entry is taken, or refused with a 400 (a CLI message for the log) naming the row and
the field; nothing half-written, never a 500. PostgreSQL refuses NUL and half an emoji,
so they are refused before anything is written."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from beatdesk.live.models import LiveEntry
from beatdesk.testing.fuzz import awkward_text, hostile_bytes, json_scalars

pytestmark = pytest.mark.django_db

INCIDENT = {
    "reference": "C2-20241122-0417",
    "time": "14:32",
    "type": "Concern for welfare",
    "location": "Dudley Road, Kings Heath",
    "summary": "a neighbour has not been seen",
    "outcome": "officers found her safe and well",
}


def send(client, event, body: bytes, token: str):
    return client.post(
        reverse("live:intake", args=[event.pk]),
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


@given(
    data=st.data(),
    extra=st.dictionaries(st.sampled_from([*INCIDENT, "unit"]), json_scalars, max_size=3),
)
def test_an_entry_is_taken_or_refused_with_its_reason(client, make_event, data, extra):
    event, token = make_event()
    body = data.draw(hostile_bytes({**INCIDENT, **extra}))
    if data.draw(st.booleans()):
        body = b"[" + body + b"]"
    before = LiveEntry.objects.count()
    response = send(client, event, body, token)
    assert response.status_code in {200, 201, 400}, response.content
    if response.status_code == 400:
        assert response.json()["error"] and LiveEntry.objects.count() == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({**INCIDENT, "summary": "half \udcff an emoji"}, "field summary"),
        ({**INCIDENT, "outcome": "a \x00 NUL"}, "field outcome"),
        ({**INCIDENT, "unit\ud83d": "x"}, "field unit"),
        ({**INCIDENT, "time": "0001-01-01T00:00+05:00"}, "field time"),
    ],
)
def test_nul_half_an_emoji_and_impossible_times_are_refused_by_name(
    client, make_event, body, field
):
    """Each was a 500 (PostgreSQL) or an OverflowError."""
    event, token = make_event()
    raw = json.dumps(body).encode()
    response = send(client, event, raw, token)
    assert response.status_code == 400, response.content
    assert any(field in p for p in response.json()["problems"])
    assert not LiveEntry.objects.exists()


@pytest.mark.parametrize("body", [b'{"time": "caf\xe9"}', b"[" * 5000 + b"]" * 5000])
def test_bad_bytes_and_deep_json_are_a_400(client, make_event, body):
    event, token = make_event()
    response = send(client, event, body, token)
    assert response.status_code == 400 and response.json()["error"] == "the body is not JSON"


@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "time": st.one_of(st.sampled_from(["14:32", "9.05", "25:00", ""]), awkward_text),
                "type": awkward_text,
                "location": awkward_text,
                "summary": awkward_text,
                "outcome": awkward_text,
            }
        ),
        min_size=1,
        max_size=4,
    ),
    junk=st.sampled_from([b"", b"\xff", b"\x00", b"\xed\xa0\x80", b'"']),
    at=st.integers(min_value=0, max_value=400),
)
def test_an_incident_log_is_imported_whole_or_refused_naming_each_bad_row(event, rows, junk, at):
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    data = text.getvalue().encode("utf-8", "surrogatepass")
    data = data[:at] + junk + data[at:]
    before = LiveEntry.objects.count()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        path.write_bytes(data)
        try:
            call_command("live", "import", "wmp24", str(path), stdout=io.StringIO())
        except CommandError as exc:
            assert str(exc) and LiveEntry.objects.count() == before  # all or nothing
