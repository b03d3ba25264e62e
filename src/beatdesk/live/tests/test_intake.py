"""POST /live/<id>/entries: the command-and-control system sends incidents with the event's
bearer token; refusals say why; the same reference twice adds nothing."""

from __future__ import annotations

import json

import httpx
import pytest
from django.urls import reverse

from beatdesk.audit.models import AuditEvent
from beatdesk.live.models import LiveEntry
from beatdesk.publishing.models import Post

pytestmark = pytest.mark.django_db

INCIDENT = {
    "reference": "C2-20241122-0417",
    "time": "14:32",
    "type": "Concern for welfare",
    "location": "14 Dudley Road, Kings Heath",
    "summary": "caller Dean Walsh on 07700 900123 says his neighbour Margaret Hughes, 82, "
    "has not been seen",
    "outcome": "officers found her safe and well",
}


def send(client, event, body, token: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return client.post(
        reverse("live:intake", args=[event.pk]),
        data=json.dumps(body) if not isinstance(body, bytes) else body,
        content_type="application/json",
        **headers,
    )


@pytest.fixture
def with_token(make_event):
    return make_event()


def test_an_entry_with_the_token_is_numbered_redacted_and_queued(client, with_token):
    event, token = with_token
    response = send(client, event, INCIDENT, token)
    assert response.status_code == 201
    assert response.json() == {
        "created": [{"reference": "C2-20241122-0417", "number": 1}],
        "duplicates": [],
    }
    entry = LiveEntry.objects.get(event=event)
    assert entry.source == "http" and entry.raw["reference"] == "C2-20241122-0417"
    assert entry.text == (
        "#wmp24 1: 14:32 concern for welfare, Kings Heath: caller says his neighbour has not "
        "been seen — officers found her safe and well"
    )
    assert entry.posts.filter(status=Post.Status.AWAITING_APPROVAL).count() == 3


def test_the_same_reference_again_adds_nothing(client, with_token):
    event, token = with_token
    send(client, event, INCIDENT, token)
    again = send(client, event, [INCIDENT, dict(INCIDENT, reference="C2-0418")], token)
    assert again.status_code == 201
    assert again.json()["duplicates"] == ["C2-20241122-0417"]
    assert again.json()["created"] == [{"reference": "C2-0418", "number": 2}]
    only_old = send(client, event, INCIDENT, token)
    assert only_old.status_code == 200 and only_old.json()["created"] == []
    assert event.entries.count() == 2


def test_no_token_is_401_and_a_wrong_one_403(client, with_token, make_event):
    event, token = with_token
    other, other_token = make_event(hashtag="#bsp24")
    missing = send(client, event, INCIDENT, None)
    assert missing.status_code == 401 and "Bearer" in missing["WWW-Authenticate"]
    assert "Authorization: Bearer" in missing.json()["error"]
    assert send(client, event, INCIDENT, "not-the-token").status_code == 403
    wrong_event = send(client, event, INCIDENT, other_token)
    assert wrong_event.status_code == 403
    assert "not the intake token" in wrong_event.json()["error"]
    assert AuditEvent.objects.filter(action="live.intake_refused").count() == 2
    assert not LiveEntry.objects.exists()


def test_bad_entries_are_400_with_each_reason_and_nothing_is_added(client, with_token):
    event, token = with_token
    response = send(
        client,
        event,
        [
            INCIDENT,
            dict(INCIDENT, reference="C2-2", time="half past two"),
            dict(INCIDENT, reference=""),
            dict(INCIDENT, reference="C2-4", type=""),
            "not an object",
        ],
        token,
    )
    assert response.status_code == 400
    problems = response.json()["problems"]
    assert problems[0].startswith("entry 2, field time: 'half past two' is not a time")
    assert problems[1] == "entry 3, field reference: the C2 incident reference is required"
    assert problems[2] == "entry 4, field type: is empty"
    assert problems[3] == "entry 5: must be a JSON object"
    assert not LiveEntry.objects.exists()
    assert send(client, event, b"{not json", token).json()["error"] == "the body is not JSON"
    assert send(client, event, [], token).status_code == 400


def test_a_new_token_replaces_the_old_one(client, with_token):
    from beatdesk.live.actions import do_new_token

    event, old = with_token
    new = do_new_token(event, None)
    assert send(client, event, INCIDENT, old).status_code == 403
    assert send(client, event, INCIDENT, new).status_code == 201


@pytest.mark.django_db(transaction=True)
def test_over_real_http(live_server, make_event):
    event, token = make_event()
    url = f"{live_server.url}/live/{event.pk}/entries"
    with httpx.Client(timeout=10) as http:
        refused = http.post(url, json=INCIDENT)
        created = http.post(url, json=INCIDENT, headers={"Authorization": f"Bearer {token}"})
        repeated = http.post(url, json=INCIDENT, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert created.status_code == 201 and created.json()["created"][0]["number"] == 1
    assert repeated.status_code == 200 and repeated.json()["duplicates"] == [INCIDENT["reference"]]
    assert LiveEntry.objects.filter(event=event).count() == 1
