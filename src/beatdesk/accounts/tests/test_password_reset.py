"""Password reset by email: a one-time link, the same answer whether or not an account has
the address, limits, the audit log; after a reset every session ends, the lockout is lifted
and the second factor is still asked for."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from beatdesk.accounts.tests.test_sign_in import password_step
from beatdesk.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
NEW = "a-long-new-passphrase-for-the-desk"
ADDRESS = "dana.okafor@westmere-police.example"


@pytest.fixture(autouse=True)
def _mail_and_worker(settings, users):
    # The worker's part runs at once; the limits start from nothing in every test.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    cache.clear()
    users["dana.desk"].email = ADDRESS
    users["dana.desk"].save(update_fields=["email"])


def actions(name: str) -> int:
    return AuditEvent.objects.filter(action=name).count()


def ask(client: Client, email: str):
    return client.post("/accounts/password/reset/", {"email": email})


def link_in(message) -> str:
    found = re.search(r"https?://testserver(/accounts/password/reset/\S+/\S+/)", message.body)
    assert found, message.body
    return found.group(1)


def test_a_reset_by_the_mailed_link_ends_every_session_and_keeps_the_second_factor(
    users, client_for
):
    elsewhere = client_for("dana.desk")
    assert elsewhere.get("/").status_code == 200
    for _ in range(5):  # locked out by wrong passwords
        password_step(Client(), "dana.desk", "not-the-password")
    assert password_step(Client(), "dana.desk").status_code == 429

    browser = Client()
    login = browser.get("/accounts/login/")
    assert b'href="/accounts/password/reset/"' in login.content
    asked = ask(browser, ADDRESS.upper())
    assert asked.status_code == 302 and asked.url == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [ADDRESS]
    assert "dana.desk" in mail.outbox[0].body
    link = link_in(mail.outbox[0])

    opened = browser.get(link)
    assert opened.status_code == 302 and opened.url.endswith("/set-password/")
    form = browser.get(opened.url)
    assert form.status_code == 200 and b"Choose a new password" in form.content
    done = browser.post(opened.url, {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and done.url == "/accounts/password/reset/done/"
    users["dana.desk"].refresh_from_db()
    assert users["dana.desk"].check_password(NEW)

    assert elsewhere.get("/").status_code == 302  # signed out everywhere
    again = Client()
    signed = password_step(again, "dana.desk", NEW)  # the lockout is lifted
    assert signed.status_code == 302
    assert again.get("/").url == "/accounts/two-factor/"  # and the second factor still asked

    used = Client().get(link)  # the link works once
    assert used.status_code == 400 and b"This link does not work" in used.content
    assert actions("password.reset_requested") == 1
    assert actions("password.reset_mailed") == 1
    assert actions("password.reset_done") == 1
    assert actions("password.reset_link_refused") == 1
    done_event = AuditEvent.objects.get(action="password.reset_done")
    assert done_event.actor_id == users["dana.desk"].pk


def test_the_answer_is_the_same_whether_or_not_an_account_has_the_address(users):
    known = ask(Client(), ADDRESS)
    unknown = ask(Client(), "nobody@westmere-police.example")
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)

    def main(url: str) -> bytes:  # the page less its per-request nonce and CSRF token
        return re.search(rb"<main.*</main>", Client().get(url).content, re.S).group(0)

    assert main(known.url) == main(unknown.url)
    assert len(mail.outbox) == 1
    assert actions("password.reset_requested") == 2  # both requests are in the audit log
    # The address asked for is personal data: the chain holds its digest only.
    assert not AuditEvent.objects.filter(recipient__icontains="westmere").exists()


def test_requests_are_limited_per_address_and_per_client(settings):
    settings.BEATDESK_PASSWORD_RESET_EMAIL_LIMIT = 2
    settings.BEATDESK_PASSWORD_RESET_CLIENT_LIMIT = 4
    client = Client(REMOTE_ADDR="192.0.2.10")
    assert [ask(client, ADDRESS).status_code for _ in range(3)] == [302, 302, 429]
    refused = ask(Client(REMOTE_ADDR="192.0.2.11"), ADDRESS)
    assert refused.status_code == 429 and b"Too many reset requests" in refused.content
    assert len(mail.outbox) == 2
    # One client asking for many addresses is stopped too, whether or not they exist.
    other = Client(REMOTE_ADDR="192.0.2.12")
    codes = [ask(other, f"someone{i}@example.org").status_code for i in range(5)]
    assert codes == [302, 302, 302, 302, 429]
    assert actions("password.reset_limited") == 3


def test_a_malformed_address_is_a_clear_400():
    response = ask(Client(), "not an address")
    assert response.status_code == 400 and b"valid email address" in response.content
    assert mail.outbox == []


def test_a_forged_link_is_refused():
    response = Client().get("/accounts/password/reset/MQ/abc-def/")
    assert response.status_code == 400 and b"This link does not work" in response.content
