"""Text every database can store, and the exact bytes of text that was not.

PostgreSQL refuses NUL in text and jsonb, and neither it nor SQLite (nor UTF-8 itself)
can hold half of a UTF-16 surrogate pair, which JSON's "\\udcff" escapes and recorded
traffic carry. A delivery is kept as it came (its bytes) and read as clean text.
"""

from __future__ import annotations

import re
from typing import Any

# NUL, and any surrogate code point: Python keeps them in a str, UTF-8 cannot.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def is_storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


def storable(text: str) -> str:
    """The text with a surrogate pair split across two code points joined again, and every
    lone surrogate and NUL shown as U+FFFD (the replacement character)."""
    if is_storable(text):
        return text
    joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return joined.replace("\x00", REPLACEMENT)


def storable_value(value: Any) -> Any:
    """A JSON-able value (keys included) with every string made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable_value(k): storable_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_value(v) for v in value]
    return value


def unstorable_in(value: Any) -> str:
    """Why the value (keys included) cannot be stored as it is, or "" when it can."""
    if isinstance(value, str):
        found = _UNSTORABLE.search(value)
        if found is None:
            return ""
        if found.group() == "\x00":
            return "holds a NUL character"
        return "holds half an emoji (a lone UTF-16 surrogate)"
    if isinstance(value, dict):
        parts = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        return ""
    for part in parts:
        reason = unstorable_in(part)
        if reason:
            return reason
    return ""


def exact_bytes(body: str | bytes) -> bytes:
    """The bytes a delivery came as: a str's lone surrogates encoded as they stand."""
    return body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")


def decoded(raw: bytes) -> str:
    """The text of a delivery's bytes (surrogates encoded as they stand are read back);
    UnicodeDecodeError when they are not UTF-8."""
    return raw.decode("utf-8", "surrogatepass")
