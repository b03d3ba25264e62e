"""Sending a reply by email: one message through the account's SMTP server (smtplib).

SMTP has no idempotency of its own, so the Message-ID is made from the idempotency key: a send
retried after a timeout (when the first attempt may well have gone through) carries the same
Message-ID, which lets the recipient's mail program and the desk's own records recognise the
duplicate. Without a key from the caller the key is derived from the account, the recipient,
the message answered and the text.

Errors (base.py): a refused login, a missing STARTTLS, a refused sender or recipient and
other 5xx answers -> NetworkRefused; timeouts, refused connections, hang-ups and 4xx answers
-> TransientError. The password is sent only in AUTH and never appears in an error.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from dataclasses import dataclass
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from beatdesk.core.digest import sha256_hex
from beatdesk.networks.base import NetworkRefused, NotSupported, TransientError
from beatdesk.networks.email.client import _flag, _port, credentials_of

if TYPE_CHECKING:
    from beatdesk.networks.models import NetworkAccount

TIMEOUT_SECONDS = 10.0
SUBMISSION_PORT = 587
SMTP_PORT = 25
MAX_SUBJECT = 200
DEFAULT_SUBJECT = "Your message"
SYNTHETIC_IDS = ("uid:", "sha256:")  # external ids normalise makes when it has no Message-ID


@dataclass(frozen=True)
class SubmissionSettings:
    host: str
    port: int
    starttls: bool
    username: str
    password: str
    from_address: str

    def __repr__(self) -> str:  # never the password
        return f"<SubmissionSettings {self.where}>"

    @property
    def where(self) -> str:
        return f"smtp://{self.host}:{self.port}"


def submission_settings(credentials: dict[str, Any]) -> SubmissionSettings:
    """SMTP settings; STARTTLS (port 587) unless smtp_starttls is explicitly false."""
    host = str(credentials.get("smtp_host") or "").strip()
    from_address = str(credentials.get("from_address") or "").strip()
    if not host or not from_address:
        raise NetworkRefused("the email account needs an 'smtp_host' and a 'from_address'")
    starttls = _flag(credentials.get("smtp_starttls"), True)
    return SubmissionSettings(
        host=host,
        port=_port(
            credentials.get("smtp_port"), SUBMISSION_PORT if starttls else SMTP_PORT, "smtp_port"
        ),
        starttls=starttls,
        username=str(credentials.get("smtp_username") or ""),
        password=str(credentials.get("smtp_password") or ""),
        from_address=from_address,
    )


def one_address(value: str, what: str) -> Address:
    """A single mailbox (with or without a display name), read with the standard library's
    modern header parser; ValueError for anything else, such as a list of addresses, a group
    or a header injection attempt."""
    if not value or "\r" in value or "\n" in value:
        raise ValueError(f"{what} must be one email address")
    try:
        header = policy.default.header_factory("To", value)
        addresses = list(getattr(header, "addresses", ()))
        defects = list(getattr(header, "defects", ()))
    except (ValueError, IndexError, TypeError, HeaderParseError) as exc:
        raise ValueError(f"{what} is not an email address: {value!r}") from exc
    if len(addresses) != 1 or defects:
        raise ValueError(f"{what} must be one email address: {value!r}")
    address: Address = addresses[0]
    if not address.username or "." not in address.domain:
        raise ValueError(f"{what} is not an email address: {value!r}")
    return address


def message_id_for(key: str, from_address: Address) -> str:
    """The Message-ID (without <>) for an idempotency key: the same key, the same id."""
    domain = from_address.domain or "beatdesk.invalid"
    return f"beatdesk.{sha256_hex(key)[:24]}@{domain}"


def default_idempotency_key(handle: str, to_address: str, in_reply_to: str, text: str) -> str:
    return "beatdesk-" + sha256_hex(f"{handle}\n{to_address}\n{in_reply_to}\n{text}")[:48]


def reply_subject(subject: str) -> str:
    """The subject of a reply: "Re: " and the subject answered, on one line, never "Re: Re:"."""
    subject = " ".join(subject.split())[:MAX_SUBJECT]
    if not subject:
        return f"Re: {DEFAULT_SUBJECT.lower()}"
    if subject[:3].lower() == "re:":
        return "Re: " + subject[3:].strip()
    return f"Re: {subject}"


def _msgid(value: str) -> str:
    value = value.strip().strip("<>").strip()
    if not value or any(c.isspace() or c in "<>" for c in value):
        raise ValueError(f"not a Message-ID: {value!r}")
    return value


def build_reply(
    settings: SubmissionSettings,
    to_address: str,
    subject: str,
    text: str,
    *,
    in_reply_to: str = "",
    message_id: str,
) -> EmailMessage:
    if not text or not text.strip():
        raise ValueError("an email needs some text")
    message = EmailMessage()
    message["From"] = one_address(settings.from_address, "the account's 'from_address'")
    message["To"] = one_address(to_address, "the address to reply to")
    if in_reply_to:
        message["Subject"] = reply_subject(subject)
    else:
        message["Subject"] = " ".join(subject.split())[:MAX_SUBJECT] or DEFAULT_SUBJECT
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = f"<{message_id}>"
    if in_reply_to and not in_reply_to.startswith(SYNTHETIC_IDS):
        # An id the desk made up (a message without a Message-ID) is not worth citing.
        parent = _msgid(in_reply_to)
        message["In-Reply-To"] = f"<{parent}>"
        message["References"] = f"<{parent}>"
    message["Auto-Submitted"] = "no"
    message.set_content(text)
    return message


def _send(settings: SubmissionSettings, message: EmailMessage, sender: str, to: str) -> None:
    where = settings.where
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS) as smtp:
            smtp.ehlo()
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, settings.password)
            smtp.send_message(message, from_addr=sender, to_addrs=[to])
    except smtplib.SMTPAuthenticationError as exc:
        raise NetworkRefused(
            f"{where}: the server refused the login ({exc.smtp_code}): check the account's "
            "smtp_username and smtp_password"
        ) from None  # the password never rides along in a chained exception
    except smtplib.SMTPNotSupportedError as exc:
        reason = str(exc.args[0]) if exc.args else "an extension was not offered"
        raise NetworkRefused(
            f"{where}: {reason[:200]} (STARTTLS or AUTH configured but not offered); "
            "nothing was sent"
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        if codes and all(400 <= code < 500 for code in codes):
            raise TransientError(f"{where}: the recipient was refused for now ({codes})") from exc
        raise NetworkRefused(f"{where}: the server refused the recipient ({codes})") from exc
    except smtplib.SMTPResponseException as exc:  # sender or data refused, or 4xx/5xx elsewhere
        reply = (
            exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else ""
        )
        detail = f"{exc.smtp_code} {reply}".strip()[:200]
        if 400 <= exc.smtp_code < 500:
            raise TransientError(f"{where}: the server said to try later: {detail}") from exc
        raise NetworkRefused(f"{where}: the server refused the message: {detail}") from exc
    except ssl.SSLCertVerificationError as exc:
        raise NetworkRefused(
            f"{where}: the server's certificate does not verify ({exc.verify_message})"
        ) from exc
    except TimeoutError as exc:
        raise TransientError(f"{where}: timed out after {TIMEOUT_SECONDS:g} s") from exc
    except ConnectionRefusedError as exc:
        raise TransientError(f"{where}: connection refused") from exc
    except UnicodeEncodeError:
        raise NetworkRefused(
            f"{where}: the SMTP username and password must be plain ASCII"
        ) from None
    except (smtplib.SMTPException, OSError) as exc:  # hang-ups, resets, TLS failures
        raise TransientError(f"{where}: sending failed: {type(exc).__name__}") from exc


def send_reply(
    account: NetworkAccount,
    to_address: str,
    subject: str,
    text: str,
    in_reply_to: str = "",
    idempotency_key: str = "",
) -> str:
    """Send `text` to `to_address` (answering the message `in_reply_to`, a Message-ID, if
    given) from the account's from_address; the new message's Message-ID, without <>."""
    settings = submission_settings(credentials_of(account))
    sender = one_address(settings.from_address, "the account's 'from_address'")
    recipient = one_address(to_address, "the address to reply to")
    key = idempotency_key or default_idempotency_key(
        account.handle, recipient.addr_spec, in_reply_to, text
    )
    message_id = message_id_for(key, sender)
    message = build_reply(
        settings, to_address, subject, text, in_reply_to=in_reply_to, message_id=message_id
    )
    _send(settings, message, sender.addr_spec, recipient.addr_spec)
    return message_id


def split_reply_to(reply_to: str) -> tuple[str, str, str]:
    """(message id, address, subject) from "<message-id>|<address>[|<subject>]"."""
    if "|" not in reply_to:
        raise NotSupported("email needs an address to reply to")
    message_id, _, rest = reply_to.partition("|")
    address, _, subject = rest.partition("|")
    if not address.strip():
        raise NotSupported("email needs an address to reply to")
    return message_id.strip(), address.strip(), subject
