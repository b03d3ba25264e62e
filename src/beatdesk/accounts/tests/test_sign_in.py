"""Sign-in: argon2 passwords, TOTP for every staff role, throttling, timeouts, disabling."""

from __future__ import annotations

import time

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from beatdesk.audit.models import AuditEvent
from beatdesk.demo.seed import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def current_code(user) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


def password_step(client: Client, username: str, password: str = DEMO_PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_passwords_are_hashed_with_argon2(users):
    assert users["dana.desk"].password.startswith("argon2")


def test_staff_must_pass_the_second_factor_before_the_inbox(users):
    client = Client()
    assert password_step(client, "dana.desk").status_code == 302
    assert client.get("/").url == "/accounts/two-factor/"
    bad = client.post("/accounts/two-factor/", {"token": "000000"})
    assert b"not right" in bad.content
    time.sleep(1.1)  # django-otp makes you wait after a wrong code
    good = client.post("/accounts/two-factor/", {"token": current_code(users["dana.desk"])})
    assert good.status_code == 302
    assert client.get("/").status_code == 200
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "login.password" in actions and "login.second_factor" in actions
    assert "login.second_factor_failed" in actions


def test_a_new_member_of_staff_enrols_an_authenticator_on_first_sign_in(users):
    TOTPDevice.objects.filter(user=users["alex.analyst"]).delete()
    client = Client()
    password_step(client, "alex.analyst")
    page = client.get("/accounts/two-factor/")
    assert b"Set up your authenticator" in page.content
    device = TOTPDevice.objects.get(user=users["alex.analyst"], confirmed=False)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    client.post("/accounts/two-factor/", {"token": f"{totp.token():06d}"})
    device.refresh_from_db()
    assert device.confirmed


def test_the_demo_code_is_shown_only_in_demo_mode(users, settings):
    client = Client()
    password_step(client, "dana.desk")
    settings.DEMO = False
    assert b"data-demo-code" not in client.get("/accounts/two-factor/").content
    settings.DEMO = True
    assert b"data-demo-code" in client.get("/accounts/two-factor/").content


def test_repeated_wrong_passwords_lock_the_account_for_a_while(users):
    client = Client()
    for _ in range(5):
        password_step(client, "dana.desk", "wrong-password")
    locked = password_step(client, "dana.desk")
    assert locked.status_code == 429
    assert b"Too many sign-in attempts" in locked.content
    assert AuditEvent.objects.filter(action="login.failed").count() >= 5


def test_an_idle_session_is_signed_out(client_for):
    client = client_for("dana.desk")
    assert client.get("/").status_code == 200
    session = client.session
    session["beatdesk_last_seen"] = time.time() - 31 * 60
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and "timeout=1" in response.url
    assert AuditEvent.objects.filter(action="session.timeout.idle").exists()


def test_a_session_ends_at_the_absolute_limit_even_when_busy(client_for):
    client = client_for("dana.desk")
    client.get("/")
    session = client.session
    session["beatdesk_signed_in_at"] = time.time() - 13 * 3600
    session.save()
    assert client.get("/").status_code == 302


def test_disabling_an_account_ends_its_sessions(users):
    client = Client()
    password_step(client, "dana.desk")
    client.post("/accounts/two-factor/", {"token": current_code(users["dana.desk"])})
    assert client.get("/").status_code == 200
    assert Session.objects.count() == 1
    dana = users["dana.desk"]
    dana.is_active = False
    dana.save()
    assert Session.objects.count() == 0
    assert client.get("/").status_code == 302


def test_signing_out_is_recorded(client_for, users):
    client = Client()
    password_step(client, "dana.desk")
    client.post("/accounts/logout/")
    assert AuditEvent.objects.filter(action="logout").exists()
