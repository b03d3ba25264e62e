"""The email connector: a force mailbox read over IMAP, replies sent over SMTP.

Fetching (client.py) selects the mailbox and takes every message with a UID above the cursor's,
oldest first, at most FETCH_CAP a time, without marking any read. Each becomes one delivery:
a small, self-contained JSON object {"uid", "uidvalidity", "raw"} where raw is the message's
full RFC 822 bytes, base64, verbatim. The cursor is {"uidvalidity", "last_uid"}; when the
server's UIDVALIDITY changes the old UIDs mean nothing, so fetching starts again from the
first message (ingestion recognises what it already has by Message-ID).

Normalising reads the message with email.policy.default: the Message-ID is the external id,
the subject and the plain-text part (or the HTML part as text) are the text, and attachments
are listed by name, type and size only. Automatic replies (out-of-office and the like) and
delivery reports are refused as PayloadError, so they are kept as dead letters and never
reach the inbox.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email
import email.errors
import hashlib
import json
import re
from email import policy
from email.message import EmailMessage, Message
from typing import TYPE_CHECKING, Any

from beatdesk.networks.base import (
    NO_OPTIONS,
    FetchResult,
    Field,
    Inbound,
    Network,
    NotSupported,
    PayloadError,
    PostOptions,
    parse_time,
    read_json,
)
from beatdesk.networks.email.client import (
    TIMEOUT_SECONDS,
    MailboxClient,
    credentials_of,
    mailbox_settings,
)
from beatdesk.networks.email.publish import send_reply, split_reply_to
from beatdesk.networks.rss.inbound import html_to_text

if TYPE_CHECKING:
    from beatdesk.networks.models import NetworkAccount

FETCH_CAP = 200  # messages read per fetch (the oldest new ones)
MAX_ID = 200  # Message.external_id's length
MAX_FIELD = 200  # author handle and name

# --- fetching -------------------------------------------------------------------------------


def read_cursor(cursor: str) -> tuple[int | None, int]:
    """(uidvalidity, last_uid) from a cursor; an empty or unreadable one starts afresh."""
    try:
        data = json.loads(cursor) if cursor else {}
    except json.JSONDecodeError:
        data = {}
    if not isinstance(data, dict):
        return None, 0
    validity, last = data.get("uidvalidity"), data.get("last_uid")
    if not isinstance(validity, int) or isinstance(validity, bool):
        return None, 0
    if not isinstance(last, int) or isinstance(last, bool) or last < 0:
        last = 0
    return validity, last


def write_cursor(uidvalidity: int, last_uid: int) -> str:
    return json.dumps({"uidvalidity": uidvalidity, "last_uid": last_uid}, separators=(",", ":"))


def delivery(uid: int, uidvalidity: int, raw: bytes) -> str:
    return json.dumps(
        {"uid": uid, "uidvalidity": uidvalidity, "raw": base64.b64encode(raw).decode("ascii")}
    )


def fetch_mailbox(client: MailboxClient, cursor: str) -> FetchResult:
    """Messages not yet taken, oldest first, and the cursor to resume from."""
    known_validity, last_uid = read_cursor(cursor)
    with client:
        validity = client.select()
        if validity != known_validity:
            last_uid = 0  # a new mailbox, or its UIDs were renumbered: read it all again
        uids = client.uids_after(last_uid)[:FETCH_CAP]
        bodies: list[str] = []
        for uid in uids:
            raw = client.message(uid)
            if raw is not None:  # None: expunged since the search
                bodies.append(delivery(uid, validity, raw))
    new_cursor = write_cursor(validity, max(uids, default=last_uid))
    if (validity, max(uids, default=last_uid)) == read_cursor(cursor):
        new_cursor = cursor  # nothing moved: keep the cursor exactly as it was
    return FetchResult(bodies=bodies, cursor=new_cursor)


# --- normalising ----------------------------------------------------------------------------

_MSG_ID = re.compile(r"<([^<>\s]+)>")
_ATTRIBUTION_START = re.compile(r"^\s*On\s.+", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r"\bwrote:\s*$", re.IGNORECASE)
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:out\s+of\s+(?:the\s+)?office(?:\s+auto-?reply)?|automatic\s+reply|auto[-\s]?reply)"
    r"\s*(?::|$)",
    re.IGNORECASE,
)


def _fit(value: str) -> str:
    """An id that fits Message.external_id (hashed when too long)."""
    if len(value) <= MAX_ID:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _ids(value: Any) -> list[str]:
    """Message-IDs in a header (Message-ID, In-Reply-To, References), without <>."""
    text = " ".join(str(value or "").split())
    found = _MSG_ID.findall(text)
    if not found and text and " " not in text and "@" in text:
        found = [text.strip("<>")]  # a bare id without its brackets
    return found


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError, email.errors.HeaderParseError):
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def is_automatic(message: Message) -> str:
    """Why the message is an automatic one (RFC 3834 auto-reply, an out-of-office subject or a
    delivery report), or "" for a message a person wrote."""
    auto = _header(message, "Auto-Submitted").lower()
    if auto.startswith("auto-replied"):
        return "automatic reply"
    if _header(message, "X-Autoreply").lower() == "yes" or _header(message, "X-Autorespond"):
        return "automatic reply"
    if _header(message, "Precedence").lower() == "auto_reply":
        return "automatic reply"
    if _AUTO_SUBJECT.match(_header(message, "Subject")):
        return "automatic reply"
    if message.get_content_type() == "multipart/report":
        report = str(message.get_param("report-type") or "").lower()
        if report in {"delivery-status", "disposition-notification"}:
            return "delivery report"
    return ""


def _part_text(part: Message) -> str:
    try:
        content = part.get_content() if isinstance(part, EmailMessage) else None
    except (LookupError, ValueError, AssertionError, UnicodeError):
        content = None  # an unknown charset and the like: decode it by hand below
    if isinstance(content, str):
        return content
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def trim_quoted(text: str) -> str:
    """Drop the quoted history under an "On ... wrote:" line, but only when everything after
    that line is quoted (lines starting with ">") or blank: a reply written between the
    quotes is kept whole. The attribution may wrap onto a second line."""
    lines = text.split("\n")
    for start, line in enumerate(lines):
        if not _ATTRIBUTION_START.match(line):
            continue
        end = start
        if not _ATTRIBUTION_END.search(line):
            if start + 1 < len(lines) and _ATTRIBUTION_END.search(lines[start + 1]):
                end = start + 1
            else:
                continue
        rest = lines[end + 1 :]
        if any(r.strip() for r in rest) and all(
            not r.strip() or r.lstrip().startswith(">") for r in rest
        ):
            return "\n".join(lines[:start]).rstrip()
    return text


def body_text(message: EmailMessage) -> str:
    """The plain-text part, else the HTML part as text; quoted history trimmed."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = _part_text(part)
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    content = content.replace("\r\n", "\n").replace("\r", "\n")
    return trim_quoted(content).strip()


def _attachments(message: EmailMessage, body: Message | None) -> list[dict[str, Any]]:
    """Every attached file (or attached email) by name, type and size; never its content."""
    found: list[dict[str, Any]] = []

    def visit(part: Message) -> None:
        if part is body:
            return
        content_type = part.get_content_type()
        filename = part.get_filename() or ""
        disposition = part.get_content_disposition()
        if content_type == "message/rfc822":  # a forwarded email: one file, not its insides
            size = len(part.as_bytes())
            found.append(_file(filename or "message.eml", content_type, size))
            return
        if part.is_multipart():
            for child in part.iter_parts() if isinstance(part, EmailMessage) else []:
                visit(child)
            return
        if disposition == "attachment" or filename:
            payload = part.get_payload(decode=True)
            size = len(payload) if isinstance(payload, bytes) else 0
            found.append(_file(filename or "attachment", content_type, size))

    for child in message.iter_parts() if message.is_multipart() else []:
        visit(child)
    return found


def _file(filename: str, content_type: str, size: int) -> dict[str, Any]:
    name = " ".join(filename.split())[:MAX_FIELD]
    return {"type": "file", "filename": name, "content_type": content_type, "size": size}


def read_delivery(body: str) -> tuple[int, int, bytes]:
    record = read_json(body, "an email delivery")
    if not isinstance(record, dict):
        raise PayloadError("an email delivery must be a JSON object")
    uid, validity, raw = record.get("uid"), record.get("uidvalidity"), record.get("raw")
    if not isinstance(raw, str) or not raw:
        raise PayloadError("the email delivery has no raw message")
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PayloadError("the email delivery's raw message is not base64") from exc
    if not data.strip():
        raise PayloadError("the email delivery's raw message is empty")
    uid = uid if isinstance(uid, int) and not isinstance(uid, bool) else 0
    validity = validity if isinstance(validity, int) and not isinstance(validity, bool) else 0
    return uid, validity, data


def _created_at(message: Message) -> dt.datetime:
    value = _header(message, "Date")
    if value:
        try:
            return parse_time(value)
        except PayloadError:
            pass
    return dt.datetime.now(dt.UTC)


def normalise_email(body: str) -> Inbound:
    uid, validity, raw = read_delivery(body)
    try:
        parsed = email.message_from_bytes(raw, policy=policy.default)
        if not isinstance(parsed, EmailMessage):
            raise PayloadError("the raw message is not an email")
        return _normalise(parsed, uid, validity)
    except PayloadError:
        raise
    except (
        ValueError,
        LookupError,
        IndexError,
        TypeError,
        AttributeError,
        AssertionError,
        UnicodeError,
        email.errors.MessageError,
    ) as exc:  # the parser is lenient, but a badly broken header can still defeat it
        raise PayloadError(f"the email cannot be read: {type(exc).__name__}") from exc


def _normalise(message: EmailMessage, uid: int, validity: int) -> Inbound:
    if not message.keys():
        raise PayloadError("the raw message has no headers: it is not an email")
    why = is_automatic(message)
    if why:
        raise PayloadError(why)
    sender = message.get("From")
    addresses = list(getattr(sender, "addresses", ())) if sender is not None else []
    if not addresses or not addresses[0].addr_spec or "@" not in addresses[0].addr_spec:
        raise PayloadError("the email has no sender address (From)")
    author = addresses[0]

    own_ids = _ids(_header(message, "Message-ID"))
    if own_ids:
        external_id = _fit(own_ids[0])
    elif uid and validity:
        external_id = f"uid:{validity}:{uid}"
    else:
        raise PayloadError("the email has neither a Message-ID nor a mailbox UID")
    parents = _ids(_header(message, "In-Reply-To"))
    reply_to = _fit(parents[0]) if parents else ""
    references = _ids(_header(message, "References"))
    thread_id = _fit(references[0]) if references else (reply_to or external_id)

    subject = _header(message, "Subject")
    text = body_text(message)
    body_part = message.get_body(preferencelist=("plain", "html"))
    attachments = _attachments(message, body_part)
    if not subject and not text and not attachments:
        raise PayloadError("the email has no subject, text or attachments")
    heading = f"Subject: {subject}" if subject else ""
    return Inbound(
        network="email",
        external_id=external_id,
        author_handle=author.addr_spec.lower()[:MAX_FIELD],
        author_name=" ".join(author.display_name.split())[:MAX_FIELD],
        text="\n\n".join(part for part in (heading, text) if part),
        created_at=_created_at(message),
        reply_to=reply_to,
        thread_id=thread_id,
        attachments=attachments,
    )


# --- the connector --------------------------------------------------------------------------


class EmailNetwork(Network):
    """A force mailbox: read over IMAP, answered over SMTP."""

    kind = "email"
    label = "Email"
    can_fetch = True
    can_publish = True
    can_start_posts = False  # it answers people who wrote; it has no posts of its own
    publishes_publicly = False
    credential_fields = (
        Field("imap_host", "IMAP server"),
        Field("imap_port", "IMAP port", required=False),
        Field("username", "Mailbox user name"),
        Field("password", "Mailbox password", secret=True),
        Field("smtp_host", "SMTP server"),
        Field("smtp_port", "SMTP port", required=False),
        Field("smtp_username", "SMTP user name", required=False),
        Field("smtp_password", "SMTP password", secret=True, required=False),
        Field("from_address", "Send replies from"),
    )

    def __init__(self, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self._timeout = timeout

    def normalise(self, body: str) -> Inbound:
        return normalise_email(body)

    def fetch(self, account: NetworkAccount, cursor: str) -> FetchResult:
        settings = mailbox_settings(credentials_of(account))
        return fetch_mailbox(MailboxClient(settings, timeout=self._timeout), cursor)

    def reply_target(self, external_id: str, author_handle: str, text: str) -> str:
        """Whom to write to and about what: the message's id, its sender and its subject."""
        first = text.split("\n", 1)[0]
        subject = first[len("Subject: ") :] if first.startswith("Subject: ") else ""
        return f"{external_id}|{author_handle}|{subject}"

    def publish(self, account: NetworkAccount, text: str, options: PostOptions = NO_OPTIONS) -> str:
        """Reply by email. `reply_to` is "<message-id>|<address>" or
        "<message-id>|<address>|<subject>" (reply_target): an external id alone has no
        address to send to."""
        if not text or not text.strip():
            raise ValueError("an email needs some text")
        if options.media:
            raise NotSupported("the desk does not attach images to an email reply")
        idempotency_key = options.idempotency_key
        message_id, address, subject = split_reply_to(options.reply_to)
        return send_reply(
            account,
            address,
            subject,
            text,
            in_reply_to=message_id,
            idempotency_key=idempotency_key,
        )
