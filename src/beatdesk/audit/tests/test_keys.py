"""Keys kept outside the home: given by value or by file path in the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command

from beatdesk.audit.actions import Category, record_system
from beatdesk.audit.checkpoint import key_path
from beatdesk.core.home import KeyConfigError
from beatdesk.networks.models import _fernet

pytestmark = pytest.mark.django_db


def _pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def test_checkpoint_key_from_a_file_outside_the_audit_dir(tmp_path, monkeypatch, settings):
    settings.AUDIT_DIR = str(tmp_path / "audit")
    keyfile = tmp_path / "vault" / "checkpoint.pem"
    keyfile.parent.mkdir()
    keyfile.write_bytes(_pem())
    monkeypatch.setenv("BEATDESK_CHECKPOINT_KEY_FILE", str(keyfile))
    record_system("test", Category.COLLECTION, "event.1", justification="one")
    call_command("audit", "checkpoint")
    call_command("audit", "verify")
    # No key was written under the audit dir: the configured one was used.
    assert not key_path().exists()
    # Another key (same variable, another file) cannot vouch for the checkpoints.
    keyfile.write_bytes(_pem())
    with pytest.raises(CommandError, match="NOT verified"):
        call_command("audit", "verify")


def test_checkpoint_key_by_value(tmp_path, monkeypatch, settings):
    settings.AUDIT_DIR = str(tmp_path / "audit")
    monkeypatch.setenv("BEATDESK_CHECKPOINT_KEY", _pem().decode())
    record_system("test", Category.COLLECTION, "event.1", justification="one")
    call_command("audit", "checkpoint")
    call_command("audit", "verify")
    assert not key_path().exists()


def test_a_missing_checkpoint_key_file_is_a_clear_error(tmp_path, monkeypatch, settings):
    settings.AUDIT_DIR = str(tmp_path / "audit")
    monkeypatch.setenv("BEATDESK_CHECKPOINT_KEY_FILE", str(tmp_path / "nowhere.pem"))
    record_system("test", Category.COLLECTION, "event.1", justification="one")
    with pytest.raises(CommandError, match="nowhere.pem"):
        call_command("audit", "checkpoint")


def test_credentials_key_from_a_file(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("BEATDESK_CREDENTIALS_KEY", raising=False)
    keyfile = tmp_path / "creds.key"
    keyfile.write_text("a-long-secret-from-the-vault\n")
    monkeypatch.setenv("BEATDESK_CREDENTIALS_KEY_FILE", str(keyfile))
    token = _fernet().encrypt(b"secret")
    monkeypatch.delenv("BEATDESK_CREDENTIALS_KEY_FILE")
    monkeypatch.setenv("BEATDESK_CREDENTIALS_KEY", "a-long-secret-from-the-vault")
    assert _fernet().decrypt(token) == b"secret"
    monkeypatch.delenv("BEATDESK_CREDENTIALS_KEY")
    monkeypatch.setenv("BEATDESK_CREDENTIALS_KEY_FILE", str(tmp_path / "missing.key"))
    with pytest.raises(KeyConfigError, match="missing.key"):
        _fernet()
