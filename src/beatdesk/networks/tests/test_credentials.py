"""Network credentials are encrypted at rest and never shown."""

from __future__ import annotations

import logging

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_credentials_are_encrypted_at_rest_and_kept_out_of_reprs(account, caplog):
    acct = account("@WestmerePolice")
    acct.set_credentials({"bearer_token": "AAAA-super-secret-token"})
    acct.save()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT credentials_encrypted FROM networks_networkaccount WHERE id = %s", [acct.pk]
        )
        stored = bytes(cur.fetchone()[0])
    assert b"super-secret" not in stored and stored
    acct.refresh_from_db()
    assert acct.get_credentials() == {"bearer_token": "AAAA-super-secret-token"}
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("beatdesk").info("account %r", acct)
    assert "super-secret" not in repr(acct) and "super-secret" not in caplog.text


def test_credentials_from_another_installation_fail_with_a_clear_error(account, monkeypatch):
    acct = account("@WestmerePolice")
    acct.set_credentials({"token": "x"})
    monkeypatch.setenv("BEATDESK_CREDENTIALS_KEY", "a different installation")
    with pytest.raises(ValueError, match="cannot be decrypted"):
        acct.get_credentials()


def test_administrators_connect_an_account_and_secrets_are_never_shown_or_logged(
    account, client_for
):
    from beatdesk.audit.models import AuditEvent

    acct = account("@westmerepolice@social.police.example")
    admin = client_for("admin")
    form = admin.get(f"/networks/accounts/{acct.pk}/credentials/")
    assert form.status_code == 200 and b"Access token" in form.content
    missing = admin.post(
        f"/networks/accounts/{acct.pk}/credentials/", {"instance": "https://s.example"}
    )
    assert b"Access token is needed" in missing.content
    admin.post(
        f"/networks/accounts/{acct.pk}/credentials/",
        {"instance": "https://s.example", "access_token": "sekrit-token-123"},
    )
    acct.refresh_from_db()
    assert acct.get_credentials() == {
        "instance": "https://s.example",
        "access_token": "sekrit-token-123",
    }
    again = admin.get(f"/networks/accounts/{acct.pk}/credentials/")
    assert b"sekrit" not in again.content and b"stored" in again.content
    admin.post(f"/networks/accounts/{acct.pk}/credentials/", {"instance": "https://t.example"})
    acct.refresh_from_db()
    assert acct.get_credentials()["access_token"] == "sekrit-token-123"  # blank keeps it
    events = AuditEvent.objects.filter(action="account.credentials_set")
    assert events.count() == 2 and all("sekrit" not in e.justification for e in events)
    assert (
        client_for("sgt.hughes").get(f"/networks/accounts/{acct.pk}/credentials/").status_code
        == 403
    )
