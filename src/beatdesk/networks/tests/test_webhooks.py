"""X's Account Activity webhook: CRC, signatures, delivery through the ingestion path."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest
from django.test import Client

from beatdesk.inbox.models import InboundPayload, Message

pytestmark = pytest.mark.django_db
SECRET = "consumer-secret-example"
FIXTURES = Path(__file__).resolve().parent.parent / "x" / "fixtures"


@pytest.fixture
def x_account(account):
    acct = account("@WestmerePolice")
    acct.set_credentials({"consumer_secret": SECRET, "user_id": "123456789"})
    acct.save()
    return acct


def sign(body: bytes) -> str:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def test_the_crc_check_answers_with_the_signed_token(x_account):
    response = Client().get(f"/hooks/x/{x_account.pk}/", {"crc_token": "abc123"})
    expected = sign(b"abc123")
    assert response.status_code == 200 and response.json() == {"response_token": expected}
    assert Client().get(f"/hooks/x/{x_account.pk}/").status_code == 400


def test_a_signed_push_is_delivered_once_and_a_forged_one_refused(x_account):
    body = (FIXTURES / "webhook_tweet_create.json").read_bytes()
    client = Client()
    forged = client.post(
        f"/hooks/x/{x_account.pk}/",
        body,
        content_type="application/json",
        HTTP_X_TWITTER_WEBHOOKS_SIGNATURE="sha256=bm9wZQ==",
    )
    assert forged.status_code == 401 and InboundPayload.objects.count() == 0
    for _ in range(2):  # X retries pushes: stored once all the same
        ok = client.post(
            f"/hooks/x/{x_account.pk}/",
            body,
            content_type="application/json",
            HTTP_X_TWITTER_WEBHOOKS_SIGNATURE=sign(body),
        )
        assert ok.status_code == 200 and ok.json()["received"] >= 1
    assert Message.objects.filter(network="x").count() == ok.json()["received"]


def test_an_unsplittable_push_is_kept_as_a_dead_letter(x_account):
    body = b"{not json"
    response = Client().post(
        f"/hooks/x/{x_account.pk}/",
        body,
        content_type="application/json",
        HTTP_X_TWITTER_WEBHOOKS_SIGNATURE=sign(body),
    )
    assert response.status_code == 200
    assert InboundPayload.objects.get().status == "failed"


META_FIXTURES = Path(__file__).resolve().parent.parent / "facebook" / "fixtures"


@pytest.fixture
def page(account):
    acct = account("Westmere Police")
    acct.set_credentials(
        {
            "page_id": "104729185512345",
            "page_access_token": "t",
            "app_secret": "app-secret",
            "verify_token": "verify-me",
        }
    )
    acct.save()
    return acct


def test_meta_subscription_handshake_echoes_the_challenge_only_with_the_token(page):
    url = f"/hooks/meta/{page.pk}/"
    good = Client().get(
        url,
        {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"},
    )
    assert good.status_code == 200 and good.content == b"1158201444"
    bad = Client().get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1158201444"}
    )
    assert bad.status_code == 403


def test_a_signed_meta_push_is_delivered_and_a_forged_one_refused(page):
    body = (META_FIXTURES / "webhook_feed_comment.json").read_bytes()
    signature = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    client = Client()
    forged = client.post(
        f"/hooks/meta/{page.pk}/",
        body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256="sha256=" + "0" * 64,
    )
    assert forged.status_code == 401 and InboundPayload.objects.count() == 0
    ok = client.post(
        f"/hooks/meta/{page.pk}/",
        body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=signature,
    )
    assert ok.status_code == 200 and ok.json()["received"] >= 1
    assert Message.objects.filter(network="facebook").count() == ok.json()["received"]
