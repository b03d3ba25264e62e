"""A person changes their own password: checked, audited, and other sessions end."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from beatdesk.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
NEW = "a-long-new-passphrase-for-the-desk"


def test_a_password_change_is_audited_and_ends_the_other_sessions(client_for):
    here, elsewhere = client_for("dana.desk"), client_for("dana.desk")
    assert elsewhere.get("/").status_code == 200
    page = here.get("/accounts/password/")
    assert page.status_code == 200 and b"Change your password" in page.content
    done = here.post(
        "/accounts/password/",
        {"old_password": "westmere-demo-2026", "new_password1": NEW, "new_password2": NEW},
    )
    assert done.status_code == 302
    assert get_user_model().objects.get(username="dana.desk").check_password(NEW)
    assert AuditEvent.objects.filter(action="password.changed").count() == 1
    assert here.get("/").status_code == 200  # this session stays signed in
    assert elsewhere.get("/").status_code == 302  # every other one is signed out


# Outside a test transaction, as a real request runs: the refusal's audit entry needs its own.
@pytest.mark.django_db(transaction=True)
def test_a_wrong_old_password_or_a_weak_new_one_is_refused_and_audited(client_for):
    client = client_for("dana.desk")
    wrong = client.post(
        "/accounts/password/",
        {"old_password": "not-it", "new_password1": NEW, "new_password2": NEW},
    )
    assert wrong.status_code == 200 and b"incorrectly" in wrong.content
    weak = client.post(
        "/accounts/password/",
        {"old_password": "westmere-demo-2026", "new_password1": "123", "new_password2": "123"},
    )
    assert weak.status_code == 200 and b"too short" in weak.content
    assert not get_user_model().objects.get(username="dana.desk").check_password(NEW)
    assert AuditEvent.objects.filter(action="password.change_refused").count() == 2


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get("/accounts/password/")
    assert response.status_code == 302 and "/accounts/login/" in response.url
