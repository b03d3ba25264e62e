"""The idle and absolute session limits, with the clock moved by time-machine rather than
by editing the session: what a person at the desk lives through."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from beatdesk.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)


def test_a_session_lives_through_29_idle_minutes_and_ends_after_31(client_for):
    with time_machine.travel(START, tick=False) as clock:
        client = client_for("dana.desk")
        assert client.get("/").status_code == 200
        clock.shift(dt.timedelta(minutes=29))
        assert client.get("/").status_code == 200
        clock.shift(dt.timedelta(minutes=31))
        response = client.get("/")
    assert response.status_code == 302 and "timeout=1" in response.url
    assert AuditEvent.objects.filter(action="session.timeout.idle").count() == 1


def test_live_polling_does_not_keep_an_idle_session_alive(client_for):
    with time_machine.travel(START, tick=False) as clock:
        client = client_for("dana.desk")
        assert client.get("/").status_code == 200
        for _ in range(6):  # the queue page polls while nobody is at the keyboard
            clock.shift(dt.timedelta(minutes=5))
            assert client.get("/", headers={"HX-Trigger": "inbox-live"}).status_code == 200
        clock.shift(dt.timedelta(minutes=1, seconds=1))  # 31 minutes since a person acted
        response = client.get("/")
    assert response.status_code == 302 and "timeout=1" in response.url


def test_a_busy_session_still_ends_twelve_hours_after_sign_in(client_for):
    with time_machine.travel(START, tick=False) as clock:
        client = client_for("dana.desk")
        for _ in range(35):  # a request every 20 minutes: never idle
            assert client.get("/").status_code == 200
            clock.shift(dt.timedelta(minutes=20))
        assert client.get("/").status_code == 200  # 11 h 40 min after sign-in
        clock.shift(dt.timedelta(minutes=21))
        response = client.get("/")
    assert response.status_code == 302 and "timeout=1" in response.url
    assert AuditEvent.objects.filter(action="session.timeout.absolute").count() == 1
