"""`beatdesk status --json`: one JSON object of counts."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_status_counts_what_the_desk_holds(deliver, capsys):
    deliver({"id": "1", "text": "hello"})
    deliver({"id": "1", "text": "hello"})
    deliver("not json")
    call_command("status", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["messages"] == 1
    assert data["conversations"] == 1
    assert data["cases"] == 0 and data["posts"] == 0
    assert data["dead_letters"] == 1
    assert data["audit_events"] >= 4
    assert set(data) >= {
        "messages",
        "conversations",
        "cases",
        "posts",
        "audit_events",
        "pending_background_work",
    }
