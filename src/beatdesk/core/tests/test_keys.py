"""The checkpoint signing key and the credentials key can live outside the home: given in an
environment variable or as a file path, with a clear error when the named file is missing."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import transaction

from beatdesk.audit.actions import Category, record_system
from beatdesk.audit.checkpoint import key_path
from beatdesk.core.home import SecretMissing
from beatdesk.networks.models import NetworkAccount

pytestmark = pytest.mark.django_db


def pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


@pytest.fixture
def logged(settings, tmp_path):
    settings.AUDIT_DIR = tmp_path / "audit"
    with transaction.atomic():
        record_system("test", Category.COLLECTION, "event.1", justification="entry 1")


def test_a_checkpoint_key_file_outside_the_home_signs_and_verifies(logged, tmp_path, monkeypatch):
    outside = tmp_path / "secrets" / "checkpoint.pem"
    outside.parent.mkdir()
    outside.write_text(pem())
    monkeypatch.setenv("BEATDESK_CHECKPOINT_KEY_FILE", str(outside))
    call_command("audit", "checkpoint")
    call_command("audit", "verify")
    assert not key_path().exists()  # none was made in the home
    monkeypatch.setenv("BEATDESK_CHECKPOINT_KEY_FILE", str(tmp_path / "other.pem"))
    with pytest.raises(CommandError, match=r"BEATDESK_CHECKPOINT_KEY_FILE names .*other\.pem"):
        call_command("audit", "checkpoint")
    with pytest.raises(CommandError, match="NOT verified"):
        call_command("audit", "verify")


def test_a_checkpoint_key_in_the_environment(logged, monkeypatch):
    monkeypatch.setenv("BEATDESK_CHECKPOINT_KEY", pem())
    call_command("audit", "checkpoint")
    call_command("audit", "verify")
    assert not key_path().exists()
    monkeypatch.setenv("BEATDESK_CHECKPOINT_KEY", pem())  # another key: the signature fails
    with pytest.raises(CommandError):
        call_command("audit", "verify")
    monkeypatch.setenv("BEATDESK_CHECKPOINT_KEY", "not a key")
    with pytest.raises(CommandError, match="not an unencrypted PEM private key"):
        call_command("audit", "checkpoint")


def test_the_credentials_key_from_a_file(tmp_path, monkeypatch):
    monkeypatch.delenv("BEATDESK_CREDENTIALS_KEY", raising=False)
    key = tmp_path / "credentials.key"
    key.write_text("a long secret from the force's vault\n")
    monkeypatch.setenv("BEATDESK_CREDENTIALS_KEY_FILE", str(key))
    account = NetworkAccount()
    account.set_credentials({"token": "t"})
    assert account.get_credentials() == {"token": "t"}
    monkeypatch.setenv("BEATDESK_CREDENTIALS_KEY", "a long secret from the force's vault")
    monkeypatch.delenv("BEATDESK_CREDENTIALS_KEY_FILE")
    assert account.get_credentials() == {"token": "t"}  # the same key either way
    monkeypatch.delenv("BEATDESK_CREDENTIALS_KEY")
    monkeypatch.setenv("BEATDESK_CREDENTIALS_KEY_FILE", str(tmp_path / "gone.key"))
    with pytest.raises(SecretMissing, match=r"BEATDESK_CREDENTIALS_KEY_FILE names .*gone\.key"):
        account.get_credentials()
