"""The public web form and JSON intake: into the inbox, limited, honeypotted, clear errors."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client

from beatdesk.inbox.models import InboundPayload, Message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()


def test_a_person_without_an_account_reaches_the_desk(force):
    page = Client().get("/contact/")
    assert page.status_code == 200 and b"call 999" in page.content
    done = Client().post(
        "/contact/",
        {
            "name": "Sam",
            "reply_email": "sam@example.com",
            "message": "Someone keeps dumping rubbish behind the shops on Lock Street",
        },
    )
    assert done.status_code == 200 and b"your message has reached us" in done.content
    message = Message.objects.get(network="webform")
    assert message.author_name == "Sam" and message.author_handle == "sam@example.com"
    assert message.account.kind == "webform"
    assert json.loads(message.raw)["message"].startswith("Someone keeps dumping")


def test_the_json_intake_answers_with_a_reference_or_a_reason(force):
    client = Client()
    ok = client.post(
        "/api/intake/",
        json.dumps({"message": "Street light out on Mill Lane"}),
        content_type="application/json",
    )
    assert ok.status_code == 201 and ok.json()["reference"]
    empty = client.post(
        "/api/intake/", json.dumps({"message": " "}), content_type="application/json"
    )
    assert empty.status_code == 400 and "write a message" in empty.json()["error"]
    broken = client.post("/api/intake/", "{nope", content_type="application/json")
    assert broken.status_code == 400 and "JSON" in broken.json()["error"]
    bad_email = client.post(
        "/api/intake/",
        json.dumps({"message": "hi", "reply_email": "x@"}),
        content_type="application/json",
    )
    assert bad_email.status_code == 400 and "email" in bad_email.json()["error"]


def test_bots_that_fill_the_honeypot_are_thanked_and_nothing_is_kept(force):
    Client().post("/contact/", {"message": "cheap watches", "website": "http://spam.example"})
    assert Message.objects.count() == 0 and InboundPayload.objects.count() == 0


def test_too_many_messages_from_one_address_are_refused_for_a_while(force):
    client = Client()
    for n in range(5):
        assert (
            client.post(
                "/api/intake/",
                json.dumps({"message": f"note {n}"}),
                content_type="application/json",
            ).status_code
            == 201
        )
    limited = client.post(
        "/api/intake/", json.dumps({"message": "one more"}), content_type="application/json"
    )
    assert limited.status_code == 429 and "wait" in limited.json()["error"]
    assert Message.objects.count() == 5


def test_a_desk_without_a_web_form_account_says_so(force):
    from beatdesk.networks.models import NetworkAccount

    NetworkAccount.objects.filter(kind="webform").update(is_active=False)
    response = Client().post(
        "/api/intake/", json.dumps({"message": "hello"}), content_type="application/json"
    )
    assert response.status_code == 400 and "not set up" in response.json()["error"]
