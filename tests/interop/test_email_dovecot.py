"""The email connector against Debian's Dovecot (IMAP) and aiosmtpd (SMTP), beside the
hand-written IMAP server the unit tests use (beatdesk.testing.mailservers).

Mail reaches the force mailbox as it does in service, through Dovecot's own delivery agent;
the desk reads it over IMAP with the product's do_fetch and answers through the sender.
"""

from __future__ import annotations

import email
import imaplib
import json
import uuid
from email import policy

import pytest

from beatdesk.inbox.models import InboundPayload, Message
from beatdesk.networks.actions import do_fetch
from beatdesk.networks.email.inbound import read_cursor
from beatdesk.networks.models import NetworkAccount
from beatdesk.publishing.models import Post
from beatdesk.publishing.sender import do_send
from beatdesk.testing.mailservers import SMTPServer
from tests.interop.conftest import DOVECOT_PASSWORD, DOVECOT_USER, Dovecot

pytestmark = [pytest.mark.interop, pytest.mark.django_db]
HANDLE = "contact@westmere-police.example"


def mail(n: int, subject: str, body: str, **headers: str) -> bytes:
    lines = [
        f"From: Resident {n} <resident{n}@example.com>",
        f"To: {HANDLE}",
        f"Subject: {subject}",
        "Date: Mon, 09 Mar 2026 10:00:00 +0000",
        f"Message-ID: <{uuid.uuid4().hex}@example.com>",
        *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items()),
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: 8bit",
        "",
        body,
        "",
    ]
    return "\r\n".join(lines).encode()


@pytest.fixture
def mailbox(account, dovecot: Dovecot, smtp_server: SMTPServer) -> NetworkAccount:
    acc = account(HANDLE)
    acc.set_credentials(
        {
            "imap_host": "127.0.0.1",
            "imap_port": dovecot.port,
            "imap_ssl": False,
            "username": DOVECOT_USER,
            "password": DOVECOT_PASSWORD,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "smtp_starttls": False,
            "smtp_username": "",
            "smtp_password": "",
            "from_address": f"Westmere Police <{HANDLE}>",
            "mailbox": "INBOX",
        }
    )
    acc.cursor = ""
    acc.save()
    return acc


def flags(dovecot: Dovecot) -> list[bytes]:
    imap = imaplib.IMAP4("127.0.0.1", dovecot.port, timeout=10)
    try:
        imap.login(DOVECOT_USER, DOVECOT_PASSWORD)
        imap.select("INBOX", readonly=True)
        _typ, data = imap.uid("FETCH", "1:*", "(FLAGS)")
        return [d for d in data if isinstance(d, bytes)]
    finally:
        imap.logout()


def test_mail_delivered_to_dovecot_is_fetched_once_and_answered_over_smtp(
    dovecot,
    mailbox,
    smtp_server,
    users,  # noqa: F811
):
    first = mail(1, "Noise on Mill Lane", "Loud music every night after midnight at number 4.")
    auto = mail(
        2,
        "Automatic reply: Noise",
        "I am out of the office until Monday.",
        Auto_Submitted="auto-replied",
    )
    accented = mail(3, "Vélo volé", "Mon vélo a été volé devant la gare — cadenas coupé.")
    for raw in (first, auto, accented):
        dovecot.deliver(raw)

    outcome = do_fetch(mailbox, force=True)
    assert outcome.status == "fetched", outcome.detail
    assert (outcome.fetched, outcome.stored) == (3, 2)  # the automatic reply is a dead letter
    stored = Message.objects.filter(network="email", account=mailbox).order_by("pk")
    assert [m.author_handle for m in stored] == ["resident1@example.com", "resident3@example.com"]
    assert "Loud music every night" in stored[0].text
    assert "Mon vélo a été volé" in stored[1].text
    dead = InboundPayload.objects.filter(status=InboundPayload.Status.FAILED, account=mailbox)
    assert dead.count() == 1
    # Every delivery is kept raw, byte for byte, as Dovecot served it.
    raws = [json.loads(p.body)["raw"] for p in InboundPayload.objects.filter(account=mailbox)]
    assert len(raws) == 3
    # Reading leaves the mailbox as it was: nothing marked read.
    assert all(b"\\Seen" not in line for line in flags(dovecot))

    mailbox.refresh_from_db()
    validity, last_uid = read_cursor(mailbox.cursor)
    assert validity is not None and last_uid >= 3
    again = do_fetch(mailbox, force=True)
    assert (again.fetched, again.stored) == (0, 0)
    later = mail(4, "Thank you", "The officer who came round was very kind.")
    dovecot.deliver(later)
    newer = do_fetch(mailbox, force=True)
    assert (newer.fetched, newer.stored) == (1, 1)

    # The desk answers the first resident; the reply goes out over SMTP, in the thread.
    message = stored[0]
    reply = Post.objects.create(
        force=mailbox.force,
        account=mailbox,
        author=users["dana.desk"],
        text="Thank you for telling us. A PCSO will call round this week.",
        in_reply_to=message,
        status=Post.Status.SCHEDULED,
        idempotency_key=uuid.uuid4().hex,
    )
    sent = do_send(reply)
    assert sent.status == Post.Status.SENT, sent.error
    [out] = smtp_server.received
    assert out.rcpt_tos == ["resident1@example.com"]
    answer = email.message_from_bytes(out.data, policy=policy.default)
    assert answer["In-Reply-To"] == f"<{message.external_id}>"
    assert answer["Subject"] == "Re: Noise on Mill Lane"
    assert "A PCSO will call round" in answer.get_content()
    assert do_send(reply).status == Post.Status.SENT
    assert len(smtp_server.received) == 1  # sent once, however often it is retried
