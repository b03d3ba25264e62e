"""Replies from the desk: templates filled, length per network, approval, sent once."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from beatdesk.audit.models import AuditEvent
from beatdesk.publishing import actions, replies
from beatdesk.publishing.models import Post, ReplyTemplate
from beatdesk.publishing.tasks import send_post
from beatdesk.testing.fakenet import Response
from beatdesk.testing.fixtures import route

pytestmark = pytest.mark.django_db


@pytest.fixture
def masto_message(account, deliver, fake_network):
    acct = account("@westmerepolice@social.police.example")
    acct.set_credentials({"instance": fake_network.base_url, "access_token": "tok"})
    acct.save()
    fake_network.route("GET", "/api/v1/statuses/m-1", {"id": "m-1", "visibility": "public"})
    fake_network.route("POST", "/api/v1/statuses", Response(200, {"id": "200001"}))
    result = deliver(
        {
            "id": "m-1",
            "network": "mastodon",
            "author": "@sam@social.example",
            "text": "How do I report a stolen bike?",
            "account": acct.handle,
        }
    )
    return route(result.message_id)


def test_a_reply_from_the_desk_reaches_the_network_as_documented(
    masto_message, users, fake_network
):
    post = actions.check_reply(users["dana.desk"], masto_message.pk, "Use the online form, thanks!")
    assert post.status == "scheduled"
    send_post.call(post.pk)
    post.refresh_from_db()
    assert post.status == "sent" and post.external_id == "200001"
    (sent,) = fake_network.calls("POST", "/api/v1/statuses")
    assert sent.json() == {
        "status": "Use the online form, thanks!",
        "visibility": "public",
        "in_reply_to_id": "m-1",
    }
    assert sent.headers["idempotency-key"] == post.idempotency_key
    assert AuditEvent.objects.filter(action="post.sent", category="disclosure").exists()


def test_templates_fill_in_the_force_and_officer(masto_message, users, force):
    template = ReplyTemplate.objects.get(force=force, name="Report online or on 101")
    text = replies.fill(template, masto_message, users["dana.desk"])
    assert "@sam@social.example" in text and "101" in text and "Dana Okafor" in text
    assert force.online_reporting_url in text


def test_an_officer_on_a_force_account_needs_approval(deliver, users, client_for):
    message = route(
        deliver({"id": "x-9", "network": "x", "text": "hi", "account": "@WMP_DudleyRd"}).message_id
    )
    own_team = actions.check_reply(users["pcso.patel"], message.pk, "Hello from your PCSO")
    assert own_team.status == "scheduled"  # a team account: no approval needed
    message.account.scope = "force"
    message.account.save()
    waiting = actions.check_reply(users["pcso.patel"], message.pk, "Hello again")
    assert waiting.status == "awaiting_approval"
    with pytest.raises(Exception, match="supervisors"):
        actions.check_approve_reply(users["dana.desk"], waiting.pk)
    assert actions.check_approve_reply(users["sgt.hughes"], waiting.pk).status == "scheduled"


def test_a_reply_too_long_for_the_network_is_refused_before_anything_is_sent(deliver, users):
    message = route(
        deliver(
            {"id": "x-10", "network": "x", "text": "hello", "account": "@WestmerePolice"}
        ).message_id
    )
    with pytest.raises(ValidationError, match="allows 280"):
        actions.check_reply(users["dana.desk"], message.pk, "x" * 281)
    assert Post.objects.filter(in_reply_to=message).count() == 0


def test_a_failed_send_shows_why_and_can_be_tried_again(deliver, users, client_for):
    message = route(
        deliver(
            {"id": "x-11", "network": "x", "text": "hello", "account": "@WestmerePolice"}
        ).message_id
    )
    post = actions.check_reply(users["dana.desk"], message.pk, "Thanks!")
    send_post.call(post.pk)  # no credentials: the network refuses
    post.refresh_from_db()
    assert post.status == "failed" and "user_access_token" in post.error
    page = client_for("dana.desk").get(f"/messages/{message.pk}/")
    assert b"Not sent:" in page.content and b"Try again" in page.content
    assert b"Report online or on 101" in page.content  # the templates are offered
    assert actions.check_retry_reply(users["dana.desk"], post.pk).pk == post.pk


def test_the_desk_reply_form_posts_a_reply(masto_message, client_for):
    response = client_for("dana.desk").post(
        f"/publishing/reply/{masto_message.pk}/", {"text": "On it."}, follow=True
    )
    assert b"on its way" in response.content
    assert Post.objects.get(text="On it.").status == "scheduled"
