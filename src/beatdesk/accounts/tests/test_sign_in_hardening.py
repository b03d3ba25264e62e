"""Sign-in hardening: the second factor guards every page that is not a sign-in page, for
advisers too; `next` never leaves the site; lockout by username whatever the address, and
by address; the TOTP throttle says so."""

from __future__ import annotations

import pytest
from django.test import Client

from beatdesk.accounts.tests.test_sign_in import current_code, password_step

pytestmark = pytest.mark.django_db

EVIL = ["https://evil.example/phish", "//evil.example/phish", "javascript:alert(1)"]


def test_a_password_alone_cannot_change_the_shift_state(users):
    client = Client()
    password_step(client, "dana.desk")
    response = client.post("/accounts/shift/", {"on_shift": "1", "next": "/"})
    assert response.status_code == 302 and response.url == "/accounts/two-factor/"
    users["dana.desk"].refresh_from_db()
    assert users["dana.desk"].on_shift is False


def test_the_sign_in_pages_themselves_open_before_the_second_factor(users):
    client = Client()
    password_step(client, "dana.desk")
    assert client.get("/accounts/two-factor/").status_code == 200
    assert client.get("/accounts/logout/").status_code == 200


@pytest.mark.parametrize("target", EVIL)
def test_after_the_second_factor_next_never_leaves_the_site(users, target):
    client = Client()
    password_step(client, "dana.desk")
    response = client.post(
        f"/accounts/two-factor/?next={target}", {"token": current_code(users["dana.desk"])}
    )
    assert response.status_code == 302 and response.url == "/"


def test_after_the_second_factor_next_on_this_site_is_followed(users):
    client = Client()
    password_step(client, "dana.desk")
    response = client.post(
        "/accounts/two-factor/?next=/cases/", {"token": current_code(users["dana.desk"])}
    )
    assert response.url == "/cases/"


@pytest.mark.parametrize("target", EVIL)
def test_posted_next_never_leaves_the_site(client_for, target):
    desk = client_for("dana.desk")
    shift = desk.post("/accounts/shift/", {"on_shift": "1", "next": target})
    assert shift.status_code == 302 and shift.url == "/"
    bulk = desk.post(
        "/desk/bulk/",
        {"scope": "selected", "action": "close", "outcome": "no_action", "next": target},
    )
    assert bulk.status_code == 302 and bulk.url == "/"
    case = desk.post("/cases/new/", {"title": "nothing", "next": target})
    assert case.status_code == 302 and case.url == "/"


def test_posted_next_on_this_site_is_followed(client_for):
    shift = client_for("dana.desk").post("/accounts/shift/", {"on_shift": "1", "next": "/cases/"})
    assert shift.url == "/cases/"


def test_a_username_is_locked_whatever_address_it_is_tried_from(users):
    for n in range(5):
        password_step(Client(REMOTE_ADDR=f"192.0.2.{n + 1}"), "dana.desk", "wrong-password")
    locked = password_step(Client(REMOTE_ADDR="192.0.2.99"), "dana.desk")
    assert locked.status_code == 429
    # Another person from the same addresses is not locked out by it.
    assert password_step(Client(REMOTE_ADDR="192.0.2.1"), "sgt.hughes").status_code == 302


def test_an_address_is_locked_after_its_own_limit_across_usernames(users, settings):
    settings.BEATDESK_LOGIN_ADDRESS_FAILURE_LIMIT = 8
    for n in range(8):
        password_step(Client(REMOTE_ADDR="198.51.100.7"), f"guess-{n}", "wrong-password")
    assert password_step(Client(REMOTE_ADDR="198.51.100.7"), "dana.desk").status_code == 429
    assert password_step(Client(REMOTE_ADDR="198.51.100.8"), "dana.desk").status_code == 302


def test_signing_in_to_ones_own_account_keeps_the_failures_against_another(users):
    office = "203.0.113.5"
    for _ in range(4):
        password_step(Client(REMOTE_ADDR=office), "sgt.hughes", "wrong-password")
    assert password_step(Client(REMOTE_ADDR=office), "dana.desk").status_code == 302
    password_step(Client(REMOTE_ADDR=office), "sgt.hughes", "wrong-password")
    assert password_step(Client(REMOTE_ADDR="203.0.113.6"), "sgt.hughes").status_code == 429


def test_the_totp_throttle_says_to_wait(users):
    client = Client()
    password_step(client, "dana.desk")
    client.post("/accounts/two-factor/", {"token": "000000"})
    # At once again: django-otp refuses to check a code this soon after a wrong one.
    again = client.post("/accounts/two-factor/", {"token": current_code(users["dana.desk"])})
    assert b"Too many wrong codes in a row" in again.content
    assert client.get("/").status_code == 302


def test_a_community_adviser_passes_a_second_factor_too(users):
    client = Client()
    password_step(client, "ruth.iag")
    assert client.get("/").url == "/accounts/two-factor/"
    done = client.post("/accounts/two-factor/", {"token": current_code(users["ruth.iag"])})
    assert done.status_code == 302
    assert client.get("/accounts/two-factor/").status_code == 302  # verified now
    # An adviser may open none of the police pages: they land on a page they may open.
    assert client.get(done.url).status_code == 200
