"""The email connector against local IMAP and SMTP servers on 127.0.0.1 (testing.mailservers)."""

from __future__ import annotations

import base64
import datetime as dt
import email
import json
import socket
from email import policy
from pathlib import Path

import pytest

from beatdesk.networks.base import (
    NetworkRefused,
    NotSupported,
    PayloadError,
    PostOptions,
    TransientError,
)
from beatdesk.networks.email.client import MailboxClient
from beatdesk.networks.email.inbound import FETCH_CAP, EmailNetwork, delivery, trim_quoted
from beatdesk.networks.email.publish import message_id_for, one_address, send_reply
from beatdesk.testing.mailservers import (  # noqa: F401 - fixtures
    IMAP_PASSWORD,
    IMAP_USER,
    SMTP_PASSWORD,
    SMTP_USER,
    IMAPServer,
    SMTPServer,
    imap_server,
    smtp_server,
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HANDLE = "contact@westmere-police.example"
FROM = "Westmere Police <contact@westmere-police.example>"


def eml(name: str) -> bytes:
    """A fixture as a mail server stores it: CRLF line ends."""
    return (FIXTURES / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def simple(n: int) -> bytes:
    return (
        f"From: Resident {n} <resident{n}@example.com>\r\n"
        "To: contact@westmere-police.example\r\n"
        f"Subject: Report {n}\r\n"
        f"Date: Mon, 09 Mar 2026 10:{n % 60:02d}:00 +0000\r\n"
        f"Message-ID: <report-{n}@example.com>\r\n"
        "\r\n"
        f"Report number {n}.\r\n"
    ).encode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def credentials(imap: IMAPServer | None = None, smtp: SMTPServer | None = None, **extra):
    values = {
        "imap_host": "127.0.0.1",
        "imap_port": imap.port if imap else free_port(),
        "imap_ssl": False,
        "username": IMAP_USER,
        "password": IMAP_PASSWORD,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port if smtp else free_port(),
        "smtp_starttls": False,
        "smtp_username": "",
        "smtp_password": "",
        "from_address": FROM,
        "mailbox": "INBOX",
    }
    values.update(extra)
    return values


@pytest.fixture
def mailbox(account, imap_server, smtp_server):  # noqa: F811
    acct = account(HANDLE)
    assert acct.kind == "email"
    acct.set_credentials(credentials(imap_server, smtp_server))
    acct.save()
    return acct


def uids(bodies: list[str]) -> list[int]:
    return [json.loads(b)["uid"] for b in bodies]


# --- fetching -------------------------------------------------------------------------------


def test_fetch_returns_new_messages_oldest_first_verbatim_and_advances(mailbox, imap_server):  # noqa: F811
    raws = [eml("resident_plain.eml"), eml("html_only.eml"), eml("with_attachment.eml")]
    for raw in raws:
        imap_server.add(raw)
    network = EmailNetwork()

    first = network.fetch(mailbox, "")
    assert uids(first.bodies) == [1, 2, 3]
    record = json.loads(first.bodies[0])
    assert set(record) == {"uid", "uidvalidity", "raw"}
    assert record["uidvalidity"] == imap_server.uidvalidity
    assert [base64.b64decode(json.loads(b)["raw"]) for b in first.bodies] == raws  # verbatim
    assert json.loads(first.cursor) == {"uidvalidity": imap_server.uidvalidity, "last_uid": 3}

    again = network.fetch(mailbox, first.cursor)
    assert again.bodies == [] and again.cursor == first.cursor  # "4:*" still names UID 3

    imap_server.add(eml("reply_quoted.eml"))
    later = network.fetch(mailbox, first.cursor)
    assert uids(later.bodies) == [4]
    assert json.loads(later.cursor)["last_uid"] == 4
    assert network.normalise(later.bodies[0]).reply_to


def test_fetch_uses_peek_so_nothing_is_marked_read(mailbox, imap_server):  # noqa: F811
    uid = imap_server.add(eml("resident_plain.eml"))
    seen = imap_server.add(eml("html_only.eml"), flags={"\\Seen"})
    EmailNetwork().fetch(mailbox, "")
    assert imap_server.flags(uid) == set()
    assert imap_server.flags(seen) == {"\\Seen"}
    fetches = [c for c in imap_server.commands if " UID FETCH " in c.upper()]
    assert fetches and all("BODY.PEEK[]" in c for c in fetches)
    assert not any(" STORE " in c.upper() for c in imap_server.commands)


def test_a_new_uidvalidity_starts_again_from_the_first_message(mailbox, imap_server):  # noqa: F811
    for n in range(3):
        imap_server.add(simple(n))
    network = EmailNetwork()
    first = network.fetch(mailbox, "")
    assert json.loads(first.cursor) == {"uidvalidity": 1001, "last_uid": 3}

    imap_server.remove(1)
    imap_server.renumber(2002)  # now UIDs 1 and 2: both would be missed by "4:*"
    again = network.fetch(mailbox, first.cursor)
    assert uids(again.bodies) == [1, 2]
    assert [network.normalise(b).external_id for b in again.bodies] == [
        "report-1@example.com",
        "report-2@example.com",
    ]  # the same ids as before: ingestion stores them once
    assert json.loads(again.cursor) == {"uidvalidity": 2002, "last_uid": 2}


def test_an_empty_mailbox_keeps_the_cursor_and_records_uidvalidity(mailbox, imap_server):  # noqa: F811
    result = EmailNetwork().fetch(mailbox, "")
    assert result.bodies == []
    assert json.loads(result.cursor) == {"uidvalidity": 1001, "last_uid": 0}
    assert EmailNetwork().fetch(mailbox, result.cursor).cursor == result.cursor


def test_fetch_is_capped_and_resumes(mailbox, imap_server):  # noqa: F811
    for n in range(FETCH_CAP + 5):
        imap_server.add(simple(n))
    network = EmailNetwork()
    first = network.fetch(mailbox, "")
    assert uids(first.bodies) == list(range(1, FETCH_CAP + 1))
    rest = network.fetch(mailbox, first.cursor)
    assert uids(rest.bodies) == list(range(FETCH_CAP + 1, FETCH_CAP + 6))


def test_an_unreadable_cursor_starts_afresh(mailbox, imap_server):  # noqa: F811
    imap_server.add(simple(1))
    for cursor in ("not json", "[]", '{"uidvalidity": "x"}'):
        assert uids(EmailNetwork().fetch(mailbox, cursor).bodies) == [1]


def test_a_message_expunged_between_search_and_fetch_is_skipped(mailbox, imap_server):  # noqa: F811
    imap_server.add(simple(1))
    imap_server.add(simple(2))
    real = MailboxClient.uids_after

    def then_expunge(self, last_uid):
        found = real(self, last_uid)
        imap_server.remove(1)
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MailboxClient, "uids_after", then_expunge)
        result = EmailNetwork().fetch(mailbox, "")
    assert uids(result.bodies) == [2]
    assert json.loads(result.cursor)["last_uid"] == 2


def test_a_wrong_password_is_refused_without_the_password(mailbox, imap_server, caplog):  # noqa: F811
    wrong = "wrong-" + IMAP_PASSWORD
    mailbox.set_credentials(credentials(imap_server, password=wrong))
    caplog.set_level("DEBUG")
    with pytest.raises(NetworkRefused, match="AUTHENTICATIONFAILED") as caught:
        EmailNetwork().fetch(mailbox, "")
    for text in (str(caught.value), repr(caught.value), caplog.text):
        assert wrong not in text and IMAP_PASSWORD not in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert any(c.endswith("LOGIN desk@westmere-police.example ***") for c in imap_server.commands)


def test_a_login_unavailable_for_now_is_transient(mailbox, imap_server):  # noqa: F811
    imap_server.fail_next("no", on="LOGIN")
    with pytest.raises(TransientError, match="unavailable"):
        EmailNetwork().fetch(mailbox, "")


@pytest.mark.parametrize("on", ["CAPABILITY", "LOGIN", "SELECT", "SEARCH", "FETCH"])
def test_a_dropped_connection_is_transient(mailbox, imap_server, on):  # noqa: F811
    imap_server.add(simple(1))
    imap_server.fail_next("disconnect", on=on)
    with pytest.raises(TransientError):
        EmailNetwork().fetch(mailbox, "")
    assert uids(EmailNetwork().fetch(mailbox, "").bodies) == [1]  # fine once it is back


@pytest.mark.parametrize("on", ["SEARCH", "FETCH"])
def test_a_no_to_search_or_fetch_is_transient(mailbox, imap_server, on):  # noqa: F811
    imap_server.add(simple(1))
    imap_server.fail_next("no", on=on)
    with pytest.raises(TransientError, match="NO"):
        EmailNetwork().fetch(mailbox, "")


def test_a_missing_mailbox_is_refused(mailbox, imap_server):  # noqa: F811
    mailbox.set_credentials(credentials(imap_server, mailbox="Police/Contact"))
    with pytest.raises(NetworkRefused, match="Police/Contact"):
        EmailNetwork().fetch(mailbox, "")


def test_a_connection_refused_is_transient(mailbox):
    mailbox.set_credentials(credentials(None))
    with pytest.raises(TransientError, match="refused"):
        EmailNetwork().fetch(mailbox, "")


def test_a_silent_server_times_out_as_transient(mailbox):
    with socket.socket() as silent:  # accepts (the backlog does) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        mailbox.set_credentials(credentials(None, imap_port=silent.getsockname()[1]))
        with pytest.raises(TransientError, match="timed out"):
            EmailNetwork(timeout=0.3).fetch(mailbox, "")


@pytest.mark.parametrize(
    "values", [{}, {"imap_host": ""}, {"imap_host": "127.0.0.1", "username": ""}]
)
def test_missing_credentials_are_refused(mailbox, values):
    mailbox.set_credentials(values)
    with pytest.raises(NetworkRefused):
        EmailNetwork().fetch(mailbox, "")


# --- normalising ----------------------------------------------------------------------------


def normalise(name: str, uid: int = 7):
    return EmailNetwork().normalise(delivery(uid, 1001, eml(name)))


def test_a_plain_text_message():
    message = normalise("resident_plain.eml")
    assert message.network == "email"
    assert message.external_id == "20260310194207.4411.m.ellis@mail.example.com"
    assert message.author_handle == "m.ellis@example.com"
    assert message.author_name == "Margaret Ellis"
    assert message.created_at == dt.datetime(2026, 3, 10, 19, 42, 7, tzinfo=dt.UTC)
    assert message.text.startswith(
        "Subject: Cars speeding on Dudley Road every evening\n\n"
        "Dear Dudley Road neighbourhood team,\n\nMost evenings"
    )
    assert "frightening \u2013 they must" in message.text  # quoted-printable UTF-8 decoded
    assert "happy to talk: 07700 900123." in message.text  # soft line break joined
    assert message.text.endswith("Kind regards,\nMargaret Ellis")
    assert message.reply_to == "" and message.thread_id == message.external_id
    assert message.attachments == [] and message.language == ""


def test_an_html_only_message_becomes_text():
    message = normalise("html_only.eml")
    assert message.author_name == "Tom Okafor"
    assert message.text == (
        "Subject: Broken street light and people hanging around Canal Street\n\n"
        "Hello,\n"
        "The street light by the Canal Street footbridge has been out for a week and a group "
        "has been gathering there after dark & drinking.\n"
        "Yesterday someone smashed a bottle on the towpath.\n"
        "I have reported the light to the council (ref WTC-20931) but wanted you to know.\n"
        "Tom Okafor\n"
        "07700 900456"
    )
    assert "font-family" not in message.text


def test_a_reply_has_its_quotes_trimmed_and_its_thread():
    message = normalise("reply_quoted.eml")
    assert message.text == (
        "Subject: Re: Cars speeding on Dudley Road every evening\n\n"
        "Thank you. They were back tonight at about 9.15pm \u2013 a silver hatchback,\n"
        "partial registration WX19. I'm in all evening if PCSO Patel wants to call."
    )
    assert message.reply_to == "beatdesk.7c1e0d5a9b@westmere-police.example"
    assert message.thread_id == "20260310194207.4411.m.ellis@mail.example.com"  # first reference


def test_an_attachment_is_listed_without_its_content():
    message = normalise("with_attachment.eml")
    assert message.attachments == [
        {
            "type": "file",
            "filename": "dashcam-mill-lane.jpg",
            "content_type": "image/jpeg",
            "size": 125,
        }
    ]  # the HTML alternative is not an attachment
    assert "/9j/" not in json.dumps(message.attachments)
    assert message.text.startswith("Subject: Dashcam photo of the van on Mill Lane\n\nHi,")
    assert "<p>" not in message.text  # the plain alternative is preferred


def test_an_automatic_reply_is_a_payload_error():
    with pytest.raises(PayloadError, match="automatic reply"):
        normalise("auto_reply.eml")


@pytest.mark.parametrize(
    "subject", ["Out of Office: Re: your report", "Automatic reply: Canal Street", "Autoreply"]
)
def test_out_of_office_subjects_are_automatic(subject):
    raw = simple(1).replace(b"Subject: Report 1", f"Subject: {subject}".encode())
    with pytest.raises(PayloadError, match="automatic reply"):
        EmailNetwork().normalise(delivery(1, 1001, raw))


def test_a_person_writing_about_out_of_office_hours_is_not_automatic():
    raw = simple(1).replace(b"Subject: Report 1", b"Subject: Out of office hours noise")
    assert (
        EmailNetwork()
        .normalise(delivery(1, 1001, raw))
        .text.startswith("Subject: Out of office hours noise")
    )


def test_without_a_message_id_the_uid_is_the_id_and_without_a_date_it_is_now():
    raw = b"From: resident@example.com\r\nSubject: Hello\r\n\r\nA message.\r\n"
    before = dt.datetime.now(dt.UTC)
    message = EmailNetwork().normalise(delivery(42, 1001, raw))
    assert message.external_id == "uid:1001:42" and message.thread_id == "uid:1001:42"
    assert message.author_handle == "resident@example.com" and message.author_name == ""
    assert before <= message.created_at <= dt.datetime.now(dt.UTC)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("<email/>", "not JSON"),
        ("[1]", "JSON object"),
        (json.dumps({"uid": 1, "uidvalidity": 1}), "no raw"),
        (json.dumps({"uid": 1, "uidvalidity": 1, "raw": "***"}), "not base64"),
        (delivery(1, 1, b"Subject: no sender\r\n\r\nHi\r\n"), "no sender"),
        (delivery(1, 1, b"just some bytes, not an email"), "sender|headers"),
        (delivery(0, 0, b"From: a@example.com\r\nSubject: x\r\n\r\nHi\r\n"), "Message-ID"),
    ],
)
def test_unreadable_deliveries_are_payload_errors(body, reason):
    with pytest.raises(PayloadError, match=reason):
        EmailNetwork().normalise(body)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes.\n\nOn Mon, 9 Mar 2026, Desk wrote:\n> Hello\n>\n> Bye\n", "Yes."),
        (  # a reply written between the quotes: kept whole
            "On Mon, 9 Mar 2026, Desk wrote:\n> Where?\nMill Lane\n> When?\nAt 9pm",
            "On Mon, 9 Mar 2026, Desk wrote:\n> Where?\nMill Lane\n> When?\nAt 9pm",
        ),
        ("I said > 50 mph.\n> not a quote", "I said > 50 mph.\n> not a quote"),  # no attribution
        (
            "On Friday I saw it. Someone wrote: nothing",
            "On Friday I saw it. Someone wrote: nothing",
        ),
    ],
)
def test_trim_quoted(text, expected):
    assert trim_quoted(text) == expected


# --- sending --------------------------------------------------------------------------------


def sent_message(smtp: SMTPServer, index: int = -1):
    return email.message_from_bytes(smtp.received[index].data, policy=policy.default)


def test_send_reply_sends_the_documented_headers(mailbox, smtp_server):  # noqa: F811
    parent = "20260310194207.4411.m.ellis@mail.example.com"
    message_id = send_reply(
        mailbox,
        "Margaret Ellis <m.ellis@example.com>",
        "Cars speeding on Dudley Road every evening",
        "Dear Mrs Ellis,\n\nPCSO Patel will visit on Thursday evening.",
        in_reply_to=parent,
        idempotency_key="post-812",
    )
    assert message_id == message_id_for("post-812", one_address(FROM, "from"))
    assert message_id.endswith("@westmere-police.example") and "<" not in message_id
    received = smtp_server.received[-1]
    assert received.mail_from == "contact@westmere-police.example"
    assert received.rcpt_tos == ["m.ellis@example.com"]
    assert received.login == ""
    sent = sent_message(smtp_server)
    assert sent["To"] == "Margaret Ellis <m.ellis@example.com>"
    assert sent["From"] == FROM
    assert sent["Subject"] == "Re: Cars speeding on Dudley Road every evening"
    assert sent["In-Reply-To"] == f"<{parent}>"
    assert sent["References"] == f"<{parent}>"
    assert sent["Message-ID"] == f"<{message_id}>"
    assert sent["Date"]
    assert sent.get_content().replace("\r\n", "\n").strip() == (
        "Dear Mrs Ellis,\n\nPCSO Patel will visit on Thursday evening."
    )

    again = send_reply(
        mailbox, "m.ellis@example.com", "Re: Cars", "Another try", parent, "post-812"
    )
    assert again == message_id  # a retried send carries the same Message-ID
    assert sent_message(smtp_server)["Subject"] == "Re: Cars"  # never "Re: Re:"
    other = send_reply(mailbox, "m.ellis@example.com", "x", "y", parent, "post-813")
    assert other != message_id


def test_publish_replies_to_message_id_and_address(mailbox, smtp_server):  # noqa: F811
    network = EmailNetwork()
    assert network.kind == "email" and network.can_fetch and network.can_publish
    reply_to = "20260312210540.5120.m.ellis@mail.example.com|m.ellis@example.com|Re: Speeding"
    message_id = network.publish(
        mailbox, "Thank you.", PostOptions(reply_to=reply_to, idempotency_key="p-1")
    )
    sent = sent_message(smtp_server)
    assert sent["Message-ID"] == f"<{message_id}>"
    assert sent["To"] == "m.ellis@example.com"
    assert sent["Subject"] == "Re: Speeding"
    assert sent["In-Reply-To"] == "<20260312210540.5120.m.ellis@mail.example.com>"

    network.publish(mailbox, "Thanks", PostOptions(reply_to="abc@example.com|t.okafor@example.com"))
    assert sent_message(smtp_server)["Subject"] == "Re: your message"
    # Without a key from the caller, the same reply gets the same Message-ID.
    first = network.publish(
        mailbox, "Same", PostOptions(reply_to="abc@example.com|t.okafor@example.com")
    )
    assert first == network.publish(
        mailbox, "Same", PostOptions(reply_to="abc@example.com|t.okafor@example.com")
    )


@pytest.mark.parametrize("reply_to", ["", "20260310194207.4411.m.ellis@mail.example.com", "id|"])
def test_publish_without_an_address_is_not_supported(mailbox, smtp_server, reply_to):  # noqa: F811
    with pytest.raises(NotSupported, match="needs an address"):
        EmailNetwork().publish(mailbox, "Thank you", PostOptions(reply_to=reply_to))
    assert smtp_server.received == []


@pytest.mark.parametrize(
    "address", ["a@example.com, b@example.com", "not an address", "x@example.com\r\nBcc: y@x.com"]
)
def test_a_bad_address_is_refused_before_sending(mailbox, smtp_server, address):  # noqa: F811
    with pytest.raises(ValueError):
        send_reply(mailbox, address, "s", "text", "id@example.com")
    assert smtp_server.received == []


def test_login_is_used_when_configured(mailbox, smtp_server):  # noqa: F811
    smtp_server.require_login()
    mailbox.set_credentials(
        credentials(smtp=smtp_server, smtp_username=SMTP_USER, smtp_password=SMTP_PASSWORD)
    )
    send_reply(mailbox, "m.ellis@example.com", "s", "text", "id@example.com", "k-1")
    assert smtp_server.logins == [SMTP_USER]
    assert smtp_server.received[-1].login == SMTP_USER


def test_an_smtp_login_failure_is_refused_without_the_password(mailbox, smtp_server):  # noqa: F811
    smtp_server.require_login()
    wrong = "wrong-" + SMTP_PASSWORD
    mailbox.set_credentials(
        credentials(smtp=smtp_server, smtp_username=SMTP_USER, smtp_password=wrong)
    )
    with pytest.raises(NetworkRefused, match="refused the login") as caught:
        send_reply(mailbox, "m.ellis@example.com", "s", "text", "id@example.com")
    assert wrong not in str(caught.value) and wrong not in repr(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert smtp_server.received == []


def test_a_required_login_that_was_not_configured_is_refused(mailbox, smtp_server):  # noqa: F811
    smtp_server.require_login()
    with pytest.raises(NetworkRefused, match="530"):
        send_reply(mailbox, "m.ellis@example.com", "s", "text", "id@example.com")


def test_starttls_configured_but_not_offered_sends_nothing(mailbox, smtp_server):  # noqa: F811
    mailbox.set_credentials(
        credentials(
            smtp=smtp_server,
            smtp_starttls=True,
            smtp_username=SMTP_USER,
            smtp_password=SMTP_PASSWORD,
        )
    )
    with pytest.raises(NetworkRefused, match="STARTTLS"):
        send_reply(mailbox, "m.ellis@example.com", "s", "text", "id@example.com")
    assert smtp_server.received == [] and smtp_server.logins == []


def test_a_temporary_refusal_is_transient(mailbox, smtp_server):  # noqa: F811
    smtp_server.refuse_next("451 4.3.0 Please try again later")
    with pytest.raises(TransientError, match="451"):
        send_reply(mailbox, "m.ellis@example.com", "s", "text", "id@example.com")
    smtp_server.refuse_next("554 5.7.1 Message rejected")
    with pytest.raises(NetworkRefused, match="554"):
        send_reply(mailbox, "m.ellis@example.com", "s", "text", "id@example.com")


def test_an_smtp_connection_refused_is_transient(mailbox):
    mailbox.set_credentials(credentials())
    with pytest.raises(TransientError, match="refused"):
        send_reply(mailbox, "m.ellis@example.com", "s", "text", "id@example.com")


def test_publish_refuses_empty_text(mailbox):
    with pytest.raises(ValueError, match="some text"):
        EmailNetwork().publish(
            mailbox, "  ", PostOptions(reply_to="id@example.com|m.ellis@example.com")
        )


def test_an_email_is_answered_through_the_one_sender(mailbox, imap_server, smtp_server, users):  # noqa: F811, E501
    import uuid

    from beatdesk.inbox.models import Message
    from beatdesk.networks.actions import do_fetch
    from beatdesk.publishing.models import Post
    from beatdesk.publishing.sender import do_send

    imap_server.add(eml("resident_plain.eml"))
    outcome = do_fetch(mailbox)
    assert outcome.stored == 1
    message = Message.objects.get(network="email")
    post = Post.objects.create(
        force=mailbox.force,
        account=mailbox,
        author=users["dana.desk"],
        in_reply_to=message,
        text="Thank you, we have passed this to your neighbourhood team.",
        idempotency_key=uuid.uuid4().hex,
    )
    sent = do_send(post)
    assert sent.status == "sent", sent.error
    (mail,) = smtp_server.received
    assert message.author_handle in str(mail)
