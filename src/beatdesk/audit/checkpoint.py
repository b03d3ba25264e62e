"""Signed checkpoints of the audit chain, kept outside the database.

A checkpoint is the (sequence, hash) of the chain's head, signed with an Ed25519 key held
in a file under BEATDESK_AUDIT_DIR (made on first use), or given from outside the home: its
PEM in BEATDESK_CHECKPOINT_KEY, or a PEM file named by BEATDESK_CHECKPOINT_KEY_FILE
(`openssl genpkey -algorithm ed25519`); a key given so is never generated. Someone able
to rewrite the whole database can recompute every hash, but cannot forge the signature,
so `audit verify` still catches it.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from beatdesk.audit import chain
from beatdesk.core.clock import now, utc_iso
from beatdesk.core.digest import canonical_json
from beatdesk.core.home import SecretMissing, given_secret


class CheckpointError(Exception):
    """The checkpoint file or key is missing, unreadable or forged."""


@dataclass(frozen=True)
class Checkpoint:
    sequence: int
    hash: str
    created_at: str


def audit_dir() -> Path:
    path = Path(settings.AUDIT_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def key_path() -> Path:
    return audit_dir() / "checkpoint-signing-key.pem"


def checkpoints_path() -> Path:
    return audit_dir() / "checkpoints.jsonl"


def _private_key(create: bool) -> Ed25519PrivateKey:
    try:
        given = given_secret("BEATDESK_CHECKPOINT_KEY")
    except SecretMissing as exc:
        raise CheckpointError(str(exc)) from exc
    if given is not None:
        return _load(given.encode(), "BEATDESK_CHECKPOINT_KEY")
    path = key_path()
    if not path.exists():
        if not create:
            raise CheckpointError(f"no checkpoint signing key at {path}")
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        return key
    return _load(path.read_bytes(), str(path))


def ensure_signing_key() -> None:
    """Make the signing key now (beatdesk setup), not at the first checkpoint."""
    _private_key(create=True)


def _load(pem: bytes, where: str) -> Ed25519PrivateKey:
    try:
        loaded = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{where} is not an unencrypted PEM private key") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise CheckpointError(f"{where} is not an Ed25519 key")
    return loaded


def _body(cp: Checkpoint) -> bytes:
    return canonical_json(
        {"sequence": cp.sequence, "hash": cp.hash, "created_at": cp.created_at}
    ).encode()


def write_checkpoint() -> Checkpoint | None:
    """Seal what has committed, sign the chain's head and append it to the checkpoint file."""
    chain.seal()
    sequence, hash_ = chain.head()
    if not sequence:
        return None
    cp = Checkpoint(sequence=sequence, hash=hash_, created_at=utc_iso(now()))
    signature = _private_key(create=True).sign(_body(cp))
    line = json.dumps(
        {
            "sequence": cp.sequence,
            "hash": cp.hash,
            "created_at": cp.created_at,
            "signature": base64.b64encode(signature).decode(),
        }
    )
    with checkpoints_path().open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return cp


def read_checkpoints() -> list[Checkpoint]:
    """Every checkpoint, each signature checked; a forged line is an error, not skipped."""
    path = checkpoints_path()
    if not path.exists():
        return []
    public = _private_key(create=False).public_key()
    result = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            cp = Checkpoint(int(data["sequence"]), str(data["hash"]), str(data["created_at"]))
            public.verify(base64.b64decode(data["signature"]), _body(cp))
        except (ValueError, KeyError, TypeError, InvalidSignature) as exc:
            raise CheckpointError(
                f"checkpoint line {number} of {path} has a bad signature or shape"
            ) from exc
        result.append(cp)
    return result
