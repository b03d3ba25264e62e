"""Local mail servers for tests, served for real on 127.0.0.1: a small IMAP4rev1 server and
an SMTP server (aiosmtpd).

The IMAP server speaks just enough of RFC 3501 for imaplib: CAPABILITY, NOOP, LOGOUT, LOGIN,
SELECT/EXAMINE, UID SEARCH, UID FETCH (RFC822, BODY[], BODY.PEEK[], FLAGS, RFC822.SIZE) and
FETCH by sequence number. It keeps one mailbox (INBOX) whose messages get increasing UIDs, can
renumber them under a new UIDVALIDITY, and can be told to fail the next command (drop the
connection, or answer NO). The SMTP server records every message it accepts, can require a
login (allowed without TLS, for tests only) and can be told to refuse the next message.

Nothing is registered globally: a test module imports the fixtures it needs, e.g.
``from beatdesk.testing.mailservers import imap_server  # noqa: F401``.
"""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

IMAP_USER = "desk@westmere-police.example"
IMAP_PASSWORD = "imap-pa55-not-for-logs"  # noqa: S105 - a test server's fixed login
SMTP_USER = "desk@westmere-police.example"
SMTP_PASSWORD = "smtp-pa55-not-for-logs"  # noqa: S105 - a test server's fixed login

_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|\((?:[^()]|\([^()]*\))*\)|[^\s()"]+(?:\[[^\]]*\])?')


def _unquote(token: bytes) -> str:
    if token.startswith(b'"') and token.endswith(b'"') and len(token) >= 2:
        token = re.sub(rb"\\(.)", rb"\1", token[1:-1])
    return token.decode("utf-8", "replace")


def _uid_set(spec: str, uids: list[int]) -> set[int]:
    """The UIDs a sequence set names among `uids` ("*" is the highest UID; "n:*" with n past
    the highest still names the highest, as RFC 3501 says)."""
    highest = max(uids) if uids else 0
    chosen: set[int] = set()
    for part in spec.split(","):
        low_text, _, high_text = part.partition(":")
        low = highest if low_text == "*" else int(low_text)
        if not high_text:
            chosen.update(u for u in uids if u == low)
            continue
        high = highest if high_text == "*" else int(high_text)
        low, high = min(low, high), max(low, high)
        chosen.update(u for u in uids if low <= u <= high)
    return chosen


@dataclass
class StoredMessage:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


@dataclass
class _Failure:
    kind: str  # "disconnect" or "no"
    on: str  # a command name ("LOGIN", "SELECT", "SEARCH", "FETCH"), or "" for any


class IMAPServer:
    """One account (IMAP_USER / IMAP_PASSWORD) with one mailbox, INBOX."""

    def __init__(
        self, *, user: str = IMAP_USER, password: str = IMAP_PASSWORD, uidvalidity: int = 1001
    ) -> None:
        self.user = user
        self.password = password
        self.uidvalidity = uidvalidity
        self.messages: list[StoredMessage] = []
        self.commands: list[str] = []  # every command line received (LOGIN's password masked)
        self.failures: list[_Failure] = []
        self._next_uid = 1
        self._lock = threading.Lock()
        self._server = socketserver.ThreadingTCPServer(
            ("127.0.0.1", 0), self._handler_class(), bind_and_activate=True
        )
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    def start(self) -> IMAPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what tests do ----------------------------------------------------------------------

    def add(self, raw: bytes, flags: Iterable[str] = ()) -> int:
        """Deliver a message to INBOX; its UID."""
        with self._lock:
            uid = self._next_uid
            self._next_uid += 1
            self.messages.append(StoredMessage(uid, raw, set(flags)))
            return uid

    def remove(self, uid: int) -> None:
        with self._lock:
            self.messages = [m for m in self.messages if m.uid != uid]

    def renumber(self, uidvalidity: int) -> None:
        """A new UIDVALIDITY with the messages given fresh UIDs from 1, as after a mailbox is
        rebuilt or restored: every UID a client remembers is now meaningless."""
        with self._lock:
            self.uidvalidity = uidvalidity
            for number, message in enumerate(self.messages, start=1):
                message.uid = number
            self._next_uid = len(self.messages) + 1

    def flags(self, uid: int) -> set[str]:
        with self._lock:
            return next(set(m.flags) for m in self.messages if m.uid == uid)

    def fail_next(self, kind: str, *, on: str = "", count: int = 1) -> None:
        """Fail the next `count` commands (named `on`, or any): "disconnect" drops the
        connection without an answer; "no" answers NO [UNAVAILABLE]."""
        if kind not in {"disconnect", "no"}:
            raise ValueError(f"unknown failure {kind!r}")
        with self._lock:
            self.failures.extend(_Failure(kind, on.upper()) for _ in range(count))

    def _take_failure(self, command: str) -> _Failure | None:
        with self._lock:
            for index, failure in enumerate(self.failures):
                if not failure.on or failure.on == command:
                    return self.failures.pop(index)
        return None

    # --- the protocol -------------------------------------------------------------------------

    def _handler_class(self) -> type[socketserver.StreamRequestHandler]:
        imap = self

        class _Handler(socketserver.StreamRequestHandler):
            timeout = 10

            def setup(self) -> None:
                super().setup()
                self.authenticated = False
                self.selected = False
                self.readonly = False

            def send(self, *lines: bytes) -> None:
                # One write per answer: small writes in a row meet delayed ACKs (40 ms each).
                self.wfile.write(b"".join(line + b"\r\n" for line in lines))

            def handle(self) -> None:
                try:
                    self.send(b"* OK [CAPABILITY IMAP4rev1] beatdesk test IMAP server ready")
                    while True:
                        line = self.rfile.readline(65536)
                        if not line:
                            return
                        if not self.serve(line.rstrip(b"\r\n")):
                            return
                except (ConnectionError, TimeoutError, OSError):
                    return

            def serve(self, line: bytes) -> bool:
                """Answer one command line; False to close the connection."""
                tokens = _TOKEN.findall(line)
                if len(tokens) < 2:
                    self.send(b"* BAD empty command")
                    return True
                tag, command = tokens[0], tokens[1].decode().upper()
                args = tokens[2:]
                name = command
                if command == "UID" and args:
                    name = args[0].decode().upper()
                shown = line.decode("utf-8", "replace")
                if command == "LOGIN":
                    shown = f"{tag.decode()} LOGIN {_unquote(args[0]) if args else ''} ***"
                with imap._lock:
                    imap.commands.append(shown)
                failure = imap._take_failure(name)
                if failure is not None and failure.kind == "disconnect":
                    return False
                if failure is not None:
                    self.send(tag + b" NO [UNAVAILABLE] simulated failure, try again later")
                    return True
                handler = getattr(self, f"do_{command.lower()}", None)
                if handler is None:
                    self.send(tag + b" BAD unknown command")
                    return True
                if command not in {"CAPABILITY", "NOOP", "LOGOUT", "LOGIN"} and not (
                    self.authenticated
                ):
                    self.send(tag + b" BAD log in first")
                    return True
                result: bool = handler(tag, args)
                return result

            def do_capability(self, tag: bytes, args: list[bytes]) -> bool:
                self.send(b"* CAPABILITY IMAP4rev1", tag + b" OK CAPABILITY completed")
                return True

            def do_noop(self, tag: bytes, args: list[bytes]) -> bool:
                self.send(tag + b" OK NOOP completed")
                return True

            def do_logout(self, tag: bytes, args: list[bytes]) -> bool:
                self.send(b"* BYE logging out", tag + b" OK LOGOUT completed")
                return False

            def do_login(self, tag: bytes, args: list[bytes]) -> bool:
                if len(args) != 2:
                    self.send(tag + b" BAD LOGIN needs a user and a password")
                elif _unquote(args[0]) == imap.user and _unquote(args[1]) == imap.password:
                    self.authenticated = True
                    self.send(tag + b" OK [CAPABILITY IMAP4rev1] LOGIN completed")
                else:
                    self.send(tag + b" NO [AUTHENTICATIONFAILED] Invalid credentials")
                return True

            def do_select(self, tag: bytes, args: list[bytes], readonly: bool = False) -> bool:
                if len(args) != 1 or _unquote(args[0]).upper() != "INBOX":
                    self.selected = False
                    self.send(tag + b" NO [NONEXISTENT] no such mailbox")
                    return True
                with imap._lock:
                    exists, validity, next_uid = (
                        len(imap.messages),
                        imap.uidvalidity,
                        imap._next_uid,
                    )
                self.selected, self.readonly = True, readonly
                self.send(
                    rb"* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)",
                    b"* %d EXISTS" % exists,
                    b"* 0 RECENT",
                    b"* OK [UIDVALIDITY %d] UIDs valid" % validity,
                    b"* OK [UIDNEXT %d] predicted next UID" % next_uid,
                    tag
                    + (b" OK [READ-ONLY] EXAMINE" if readonly else b" OK [READ-WRITE] SELECT")
                    + b" completed",
                )
                return True

            def do_examine(self, tag: bytes, args: list[bytes]) -> bool:
                return self.do_select(tag, args, readonly=True)

            def do_uid(self, tag: bytes, args: list[bytes]) -> bool:
                if not self.selected:
                    self.send(tag + b" BAD select a mailbox first")
                    return True
                sub = args[0].decode().upper() if args else ""
                try:
                    if sub == "SEARCH":
                        self.search(tag, [a.decode() for a in args[1:]])
                    elif sub == "FETCH" and len(args) == 3:
                        self.fetch(tag, args[1].decode(), args[2].decode(), by_uid=True)
                    else:
                        self.send(tag + b" BAD unsupported UID command")
                except ValueError:
                    self.send(tag + b" BAD malformed arguments")
                return True

            def do_fetch(self, tag: bytes, args: list[bytes]) -> bool:
                if not self.selected or len(args) != 2:
                    self.send(tag + b" BAD FETCH needs a mailbox, a set and items")
                    return True
                try:
                    self.fetch(tag, args[0].decode(), args[1].decode(), by_uid=False)
                except ValueError:
                    self.send(tag + b" BAD malformed arguments")
                return True

            def search(self, tag: bytes, criteria: list[str]) -> None:
                with imap._lock:
                    uids = [m.uid for m in imap.messages]
                if criteria and criteria[0].upper() == "UID" and len(criteria) == 2:
                    found = sorted(_uid_set(criteria[1], uids))
                elif [c.upper() for c in criteria] == ["ALL"]:
                    found = uids
                else:
                    self.send(tag + b" BAD unsupported search")
                    return
                listed = b" ".join(str(u).encode() for u in found)
                self.send((b"* SEARCH " + listed).rstrip(), tag + b" OK SEARCH completed")

            def fetch(self, tag: bytes, spec: str, items_text: str, *, by_uid: bool) -> None:
                items = items_text.strip("()").upper().split()
                with imap._lock:
                    messages = list(imap.messages)
                    if by_uid:
                        chosen = _uid_set(spec, [m.uid for m in messages])
                    else:
                        chosen = {
                            m.uid
                            for n, m in enumerate(messages, start=1)
                            if n in _uid_set(spec, list(range(1, len(messages) + 1)))
                        }
                    answers: list[bytes] = []
                    for number, message in enumerate(messages, start=1):
                        if message.uid not in chosen:
                            continue
                        parts: list[bytes] = []
                        literal = b""
                        if by_uid or "UID" in items:
                            parts.append(b"UID %d" % message.uid)
                        for item in items:
                            if item in {"RFC822", "BODY[]", "BODY.PEEK[]"}:
                                if item != "BODY.PEEK[]" and not self.readonly:
                                    message.flags.add("\\Seen")
                                label = b"RFC822" if item == "RFC822" else b"BODY[]"
                                parts.append(label + b" {%d}" % len(message.raw))
                                literal = message.raw
                            elif item == "RFC822.SIZE":
                                parts.append(b"RFC822.SIZE %d" % len(message.raw))
                            elif item == "FLAGS":
                                parts.append(
                                    b"FLAGS (" + " ".join(sorted(message.flags)).encode() + b")"
                                )
                            elif item != "UID":
                                raise ValueError(item)
                        head = b"* %d FETCH (" % number + b" ".join(parts)
                        if literal:
                            answers.append(head + b"\r\n" + literal + b")")
                        else:
                            answers.append(head + b")")
                self.send(*answers, tag + b" OK FETCH completed")

        return _Handler


@pytest.fixture
def imap_server() -> Iterator[IMAPServer]:
    server = IMAPServer().start()
    try:
        yield server
    finally:
        server.stop()


# --- SMTP ----------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str  # the user that logged in, or ""


class SMTPServer:
    """aiosmtpd on 127.0.0.1, keeping what it receives in `received`. With `require_login`
    every message needs AUTH (PLAIN or LOGIN, allowed without TLS) as SMTP_USER."""

    def __init__(
        self,
        *,
        require_login: bool = False,
        user: str = SMTP_USER,
        password: str = SMTP_PASSWORD,
    ) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP as AioSMTP
        from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

        self.user = user
        self.password = password
        self.received: list[ReceivedMail] = []
        self.logins: list[str] = []  # users that logged in (successfully)
        self.refusals: list[str] = []  # SMTP replies to give the next messages instead of 250
        self.login_required = require_login
        self._lock = threading.Lock()
        mail = self

        def authenticator(
            server: AioSMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
        ) -> AuthResult:
            if not isinstance(data, LoginPassword):
                return AuthResult(success=False, handled=False)
            ok = data.login.decode() == mail.user and data.password.decode() == mail.password
            if ok:
                with mail._lock:
                    mail.logins.append(data.login.decode())
            return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

        class _Handler:
            async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
                self, server: AioSMTP, session: Session, envelope: Envelope
            ) -> str:
                with mail._lock:
                    if mail.refusals:
                        return mail.refusals.pop(0)
                    auth = session.auth_data
                    login = auth.login.decode() if isinstance(auth, LoginPassword) else ""
                    content = envelope.original_content or b""
                    mail.received.append(
                        ReceivedMail(
                            envelope.mail_from or "", list(envelope.rcpt_tos), content, login
                        )
                    )
                return "250 Message accepted for delivery"

        class _Controller(Controller):
            def factory(self) -> AioSMTP:
                # Built without auth_required (which, without TLS, makes aiosmtpd warn on
                # every connection) and told afterwards: a test server on 127.0.0.1 only.
                server: AioSMTP = super().factory()
                server._auth_required = mail.login_required
                return server

            def _trigger_server(self) -> None:
                # Bound to port 0: learn the port the system chose before connecting to it.
                sockets = getattr(self.server, "sockets", None)
                if self.port == 0 and sockets:
                    self.port = sockets[0].getsockname()[1]
                super()._trigger_server()

        self._controller = _Controller(
            _Handler(),
            hostname="127.0.0.1",
            port=0,
            authenticator=authenticator,
            auth_require_tls=False,
        )

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        port: int = self._controller.port
        return port

    def require_login(self, required: bool = True) -> None:
        """Refuse MAIL FROM (530) until the client has logged in, from the next connection."""
        self.login_required = required

    def refuse_next(self, reply: str = "451 4.3.0 Please try again later") -> None:
        with self._lock:
            self.refusals.append(reply)

    def start(self) -> SMTPServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    server = SMTPServer().start()
    try:
        yield server
    finally:
        server.stop()
