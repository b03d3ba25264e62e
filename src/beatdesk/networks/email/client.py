"""The IMAP side of the email connector: read new messages from one mailbox with imaplib.

A session is LOGIN, SELECT, UID SEARCH and one UID FETCH of BODY.PEEK[] per message (PEEK:
reading never marks a message \\Seen, so the people who also work the mailbox by hand still
see what is new). Every way it can fail becomes one of the contract's errors (base.py):

- timeouts, connection refused or reset, the server hanging up (imaplib's abort), a NO or an
  unreadable answer to SEARCH or FETCH, LOGIN refused as [UNAVAILABLE]  -> TransientError
- LOGIN refused, the mailbox missing, a certificate that does not verify -> NetworkRefused

The password is sent only in LOGIN. Messages name the server by host and port alone, and a
refused login is raised without the exception it came from, so no password reaches a log.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from beatdesk.networks.base import NetworkRefused, TransientError

if TYPE_CHECKING:
    from beatdesk.networks.models import NetworkAccount

TIMEOUT_SECONDS = 5.0
IMAP_PORT = 143
IMAPS_PORT = 993

_FETCH_UID = re.compile(rb"\bUID\s+(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class MailboxSettings:
    """Where and how to read the account's mail (from its decrypted credentials)."""

    host: str
    port: int
    ssl: bool
    username: str
    password: str
    mailbox: str = "INBOX"

    def __repr__(self) -> str:  # never the password
        return f"<MailboxSettings {self.where} {self.mailbox}>"

    @property
    def where(self) -> str:
        return f"imap{'s' if self.ssl else ''}://{self.host}:{self.port}"


def _flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _port(value: Any, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536:
        raise NetworkRefused(f"the email account's '{name}' must be a port number")
    return port


def credentials_of(account: NetworkAccount) -> dict[str, Any]:
    try:
        return account.get_credentials()
    except ValueError as exc:
        raise NetworkRefused(str(exc)) from exc


def mailbox_settings(credentials: dict[str, Any]) -> MailboxSettings:
    """IMAP settings; TLS (imaps, port 993) unless imap_ssl is explicitly false."""
    host = str(credentials.get("imap_host") or "").strip()
    username = str(credentials.get("username") or "")
    if not host or not username:
        raise NetworkRefused("the email account needs an 'imap_host' and a 'username'")
    use_ssl = _flag(credentials.get("imap_ssl"), True)
    return MailboxSettings(
        host=host,
        port=_port(credentials.get("imap_port"), IMAPS_PORT if use_ssl else IMAP_PORT, "imap_port"),
        ssl=use_ssl,
        username=username,
        password=str(credentials.get("password") or ""),
        mailbox=str(credentials.get("mailbox") or "INBOX"),
    )


def _text(data: Any) -> str:
    """imaplib's answer data as short text for a message (never more than 200 characters)."""
    parts = data if isinstance(data, list) else [data]
    words = [p.decode("utf-8", "replace") if isinstance(p, bytes) else str(p) for p in parts]
    return " ".join(w for w in words if w)[:200]


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


class MailboxClient:
    """One IMAP session: `with MailboxClient(settings) as box: box.select(); ...`."""

    def __init__(self, settings: MailboxSettings, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.settings = settings
        self.where = settings.where
        self._timeout = timeout
        self._imap: imaplib.IMAP4 | None = None

    def __repr__(self) -> str:
        return f"<MailboxClient {self.where}>"

    def __enter__(self) -> MailboxClient:
        self._connect()
        return self

    def __exit__(self, *exc: object) -> None:
        imap, self._imap = self._imap, None
        if imap is None:
            return
        with contextlib.suppress(imaplib.IMAP4.error, OSError):  # done with it either way
            imap.logout()

    @property
    def imap(self) -> imaplib.IMAP4:
        if self._imap is None:
            raise RuntimeError("the mailbox is not connected")
        return self._imap

    def _connect(self) -> None:
        settings = self.settings
        try:
            if settings.ssl:
                self._imap = imaplib.IMAP4_SSL(
                    settings.host,
                    settings.port,
                    ssl_context=ssl.create_default_context(),
                    timeout=self._timeout,
                )
            else:
                self._imap = imaplib.IMAP4(settings.host, settings.port, timeout=self._timeout)
        except ssl.SSLCertVerificationError as exc:
            raise NetworkRefused(
                f"{self.where}: the server's certificate does not verify ({exc.verify_message})"
            ) from exc
        except Exception as exc:
            raise self._transient("connecting", exc) from exc
        try:
            self.imap.login(settings.username, settings.password)
        except imaplib.IMAP4.abort as exc:
            self.__exit__()
            raise self._transient("LOGIN", exc) from None
        except imaplib.IMAP4.error as exc:
            reply = _text(exc.args[0] if exc.args else "")
            self.__exit__()
            if "UNAVAILABLE" in reply.upper():  # RFC 5530: the login service is down for now
                raise TransientError(f"{self.where}: login is unavailable for now") from None
            # `from None`: the password never rides along in a chained exception.
            raise NetworkRefused(
                f"{self.where}: the server refused the login ({reply or 'no reason given'}): "
                "check the account's username and password"
            ) from None
        except UnicodeEncodeError:
            self.__exit__()
            raise NetworkRefused(
                f"{self.where}: the username and password must be plain ASCII for IMAP LOGIN"
            ) from None
        except Exception as exc:
            self.__exit__()
            raise self._transient("LOGIN", exc) from None

    def _transient(self, what: str, exc: BaseException) -> TransientError:
        if isinstance(exc, TimeoutError):
            return TransientError(f"{self.where}: {what} timed out after {self._timeout:g} s")
        if isinstance(exc, ConnectionRefusedError):
            return TransientError(f"{self.where}: {what}: connection refused")
        if isinstance(exc, imaplib.IMAP4.abort):
            return TransientError(f"{self.where}: {what}: the server hung up ({_text(exc.args)})")
        return TransientError(f"{self.where}: {what} failed: {type(exc).__name__}")

    def _call(self, what: str, *args: str) -> list[Any]:
        """imap.uid(*args), its data if the server said OK; errors as the contract's."""
        try:
            kind, data = self.imap.uid(*args)
        except imaplib.IMAP4.abort as exc:
            raise self._transient(what, exc) from exc
        except imaplib.IMAP4.error as exc:  # BAD, or an answer imaplib could not parse
            raise TransientError(f"{self.where}: {what}: {_text(exc.args)}") from exc
        except Exception as exc:
            raise self._transient(what, exc) from exc
        if kind != "OK":
            raise TransientError(f"{self.where}: {what}: the server said {kind} {_text(data)}")
        return list(data or [])

    def select(self) -> int:
        """SELECT the account's mailbox; its UIDVALIDITY."""
        mailbox = self.settings.mailbox
        try:
            try:
                kind, data = self.imap.select(_quote(mailbox))
            except imaplib.IMAP4.readonly:  # selected, but read-only: all this client needs
                kind, data = "OK", []
            validity = self.imap.response("UIDVALIDITY")[1]
        except imaplib.IMAP4.abort as exc:
            raise self._transient("SELECT", exc) from exc
        except imaplib.IMAP4.error as exc:
            raise TransientError(f"{self.where}: SELECT: {_text(exc.args)}") from exc
        except Exception as exc:
            raise self._transient("SELECT", exc) from exc
        if kind != "OK":
            reply = _text(data)
            if "UNAVAILABLE" in reply.upper() or "INUSE" in reply.upper():
                raise TransientError(f"{self.where}: SELECT {mailbox!r}: {reply}")
            raise NetworkRefused(f"{self.where}: cannot open the mailbox {mailbox!r}: {reply}")
        try:
            return int(validity[-1])
        except (IndexError, TypeError, ValueError):
            raise TransientError(
                f"{self.where}: SELECT {mailbox!r} gave no usable UIDVALIDITY"
            ) from None

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above `last_uid`, ascending. ("n:*" names the highest UID even when it is
        below n, so the answer is filtered here too.)"""
        data = self._call("UID SEARCH", "SEARCH", "UID", f"{last_uid + 1}:*")
        uids: set[int] = set()
        for line in data:
            if line is None:
                continue
            if not isinstance(line, bytes):
                raise TransientError(f"{self.where}: UID SEARCH: an unreadable answer")
            for word in line.split():
                if not word.isdigit():
                    raise TransientError(f"{self.where}: UID SEARCH: an unreadable answer")
                uids.add(int(word))
        return sorted(u for u in uids if u > last_uid)

    def message(self, uid: int) -> bytes | None:
        """One message's full bytes, verbatim, without marking it read; None when it was
        expunged since the search."""
        data = self._call("UID FETCH", "FETCH", str(uid), "(BODY.PEEK[])")
        found: list[bytes] = []
        for item in data:
            # imaplib: (b'3 (UID 7 BODY[] {1234}', b'<the literal>') then b')'. A tuple with
            # another UID is an unsolicited answer about some other message.
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                head = item[0] if isinstance(item[0], bytes) else b""
                if b"BODY[]" not in head.upper() and b"RFC822" not in head.upper():
                    continue
                match = _FETCH_UID.search(head)
                if match is None or int(match.group(1)) == uid:
                    found.append(item[1])
        if not found:
            if any(isinstance(item, tuple) for item in data):
                raise TransientError(f"{self.where}: UID FETCH {uid}: an unreadable answer")
            return None
        return found[0]
