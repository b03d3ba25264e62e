"""SHA-256 digests and canonical JSON, used for raw payloads and the audit chain."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")  # half an emoji hashes as it stands
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest_of(value: Any) -> str:
    """Digest of any JSON-able value; personal data enters the audit chain only this way."""
    if value is None or value == "":
        return ""
    if isinstance(value, bytes | str):
        return sha256_hex(value)
    return sha256_hex(canonical_json(value))
