"""The RSS/Atom connector against a fake feed server spoken to over real HTTP (testing.fakenet)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
from pathlib import Path

import pytest

from beatdesk.networks.base import (
    NetworkRefused,
    NotSupported,
    PayloadError,
    RateLimited,
    TransientError,
)
from beatdesk.networks.rss.inbound import SEEN_CAP, RSSNetwork, html_to_text
from beatdesk.testing.fakenet import FakeNetwork, Request, Response

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HANDLE = "westmere-gazette-feed"
RSS_PATH = "/news/feed.xml"
ATOM_PATH = "/news/atom.xml"
PASSWORD = "pa55-not-for-logs"
MODIFIED = "Sat, 14 Mar 2026 09:42:10 GMT"

NEW_ITEM = """
    <item>
      <title>Police thank public after missing Westmere teenager found safe</title>
      <link>https://www.westmere-gazette.example/news/2026/03/14/teenager-found-safe</link>
      <description>&lt;p&gt;A 15-year-old reported missing on Friday has been found
        safe &amp;amp; well.&lt;/p&gt;</description>
      <guid isPermaLink="false">gazette-news-118241</guid>
      <pubDate>Sat, 14 Mar 2026 11:02:00 +0000</pubDate>
    </item>"""


def read(name: str) -> str:
    return (FIXTURES / name).read_text()


def with_items(feed: str, items: str) -> str:
    """The RSS fixture with `items` added at the top (feeds list their newest first)."""
    head, tail = feed.split("<item>", 1)
    return f"{head}{items.strip()}\n    <item>{tail}"


class FakeFeed:
    """A feed served as a web server does: ETag and Last-Modified, 304 when either
    validator the client sends still matches, and optionally basic auth."""

    def __init__(self, fake: FakeNetwork, path: str, body: str, *, login: str = "") -> None:
        self.body = body
        self.etag = '"v1"'
        self.modified = MODIFIED
        self.login = login
        fake.route("GET", path, self.handle)

    def publish(self, body: str, etag: str, modified: str) -> None:
        self.body, self.etag, self.modified = body, etag, modified

    def handle(self, request: Request) -> Response:
        if self.login:
            expected = "Basic " + base64.b64encode(self.login.encode()).decode()
            if request.headers.get("authorization") != expected:
                return Response(401, "Unauthorized", {"WWW-Authenticate": 'Basic realm="feeds"'})
        validators = {"ETag": self.etag, "Last-Modified": self.modified}
        if request.headers.get("if-none-match") == self.etag or (
            "if-none-match" not in request.headers
            and request.headers.get("if-modified-since") == self.modified
        ):
            return Response(304, b"", validators)
        return Response(200, self.body, {"Content-Type": "application/rss+xml", **validators})


@pytest.fixture
def gazette(account, fake_network):
    acct = account(HANDLE)
    assert acct.kind == "rss"
    acct.set_credentials({"feed_url": fake_network.base_url + RSS_PATH})
    acct.save()
    return acct


def rss(items: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        "<title>Westmere Town Council notices</title>"
        "<link>https://www.westmere-tc.example/</link>"
        f"<description>Public notices</description>{items}</channel></rss>"
    )


def ids(bodies: list[str]) -> list[str]:
    return [json.loads(b)["id"] for b in bodies]


# --- fetching -------------------------------------------------------------------------------


def test_first_fetch_returns_every_entry_oldest_first_with_a_cursor(gazette, fake_network):
    FakeFeed(fake_network, RSS_PATH, read("westmere_gazette_rss.xml"))
    result = RSSNetwork().fetch(gazette, "")

    assert ids(result.bodies) == [
        "https://www.westmere-gazette.example/whats-on/2026/03/12/market-square-lights",
        "gazette-news-118204",
        "gazette-news-118230",
    ]
    newest = json.loads(result.bodies[-1])
    assert newest == {
        "feed_title": "Westmere Gazette",
        "feed_link": "https://www.westmere-gazette.example/",
        "id": "gazette-news-118230",
        "title": "Dudley Road closed after lorry sheds load near Mill Lane",
        "link": "https://www.westmere-gazette.example/news/2026/03/14/dudley-road-closed-lorry",
        "summary": newest["summary"],
        "published": "2026-03-14T09:40:00+00:00",
        "updated": "",  # RSS 2.0 has no per-item updated time
        "author": "Priya Shah",
    }
    assert newest["summary"].startswith("<p>Dudley Road is closed")
    cursor = json.loads(result.cursor)
    assert cursor["etag"] == '"v1"' and cursor["modified"] == MODIFIED
    assert cursor["seen"] == list(reversed(ids(result.bodies)))  # newest first
    sent = fake_network.calls("GET", RSS_PATH)[-1]
    assert "if-none-match" not in sent.headers and "if-modified-since" not in sent.headers
    assert "authorization" not in sent.headers
    assert "rss+xml" in sent.headers["accept"]


def test_a_second_fetch_is_conditional_and_304_yields_nothing(gazette, fake_network):
    FakeFeed(fake_network, RSS_PATH, read("westmere_gazette_rss.xml"))
    network = RSSNetwork()
    first = network.fetch(gazette, "")

    second = network.fetch(gazette, first.cursor)
    sent = fake_network.calls("GET", RSS_PATH)[-1]
    assert sent.headers["if-none-match"] == '"v1"'
    assert sent.headers["if-modified-since"] == MODIFIED
    assert second.bodies == []
    assert second.cursor == first.cursor


def test_a_feed_with_one_new_item_yields_just_that_item(gazette, fake_network):
    feed = FakeFeed(fake_network, RSS_PATH, read("westmere_gazette_rss.xml"))
    network = RSSNetwork()
    first = network.fetch(gazette, "")
    feed.publish(with_items(feed.body, NEW_ITEM), '"v2"', "Sat, 14 Mar 2026 11:03:00 GMT")

    second = network.fetch(gazette, first.cursor)
    assert ids(second.bodies) == ["gazette-news-118241"]
    cursor = json.loads(second.cursor)
    assert cursor["etag"] == '"v2"'
    assert cursor["seen"][0] == "gazette-news-118241" and len(cursor["seen"]) == 4


def test_a_server_ignoring_validators_repeats_nothing(gazette, fake_network):
    fake_network.route(
        "GET", RSS_PATH, Response(200, read("westmere_gazette_rss.xml"))
    )  # no ETag, no Last-Modified, never 304
    network = RSSNetwork()
    first = network.fetch(gazette, "")
    assert len(first.bodies) == 3
    again = network.fetch(gazette, first.cursor)
    assert again.bodies == []
    assert json.loads(again.cursor) == {
        "etag": "",
        "modified": "",
        "seen": json.loads(first.cursor)["seen"],
    }


def test_seen_is_capped_at_the_newest_entries(gazette, fake_network):
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    items = "".join(
        f'<item><title>Notice {n}</title><guid isPermaLink="false">notice-{n}</guid>'
        f"<pubDate>{start + dt.timedelta(hours=n):%a, %d %b %Y %H:%M:%S +0000}</pubDate></item>"
        for n in range(SEEN_CAP + 50, 0, -1)
    )
    fake_network.route("GET", RSS_PATH, Response(200, rss(items)))
    network = RSSNetwork()
    first = network.fetch(gazette, "")
    assert len(first.bodies) == SEEN_CAP
    assert (
        ids(first.bodies)[0] == "notice-51" and ids(first.bodies)[-1] == f"notice-{SEEN_CAP + 50}"
    )
    assert len(json.loads(first.cursor)["seen"]) == SEEN_CAP
    assert network.fetch(gazette, first.cursor).bodies == []


def test_an_unreadable_cursor_starts_afresh(gazette, fake_network):
    FakeFeed(fake_network, RSS_PATH, read("westmere_gazette_rss.xml"))
    assert len(RSSNetwork().fetch(gazette, "not json").bodies) == 3
    assert "if-none-match" not in fake_network.calls("GET", RSS_PATH)[-1].headers


def test_an_entry_without_a_guid_uses_its_link_and_without_either_a_hash(gazette, fake_network):
    items = """
    <item>
      <title>Bin collections change for Easter</title>
      <link>https://www.westmere-tc.example/news/easter-bins</link>
      <pubDate>Mon, 09 Mar 2026 09:00:00 GMT</pubDate>
    </item>
    <item>
      <title>Parish notice board</title>
      <description>Minutes of the February meeting are now on the board.</description>
      <pubDate>Sun, 08 Mar 2026 09:00:00 GMT</pubDate>
    </item>"""
    fake_network.route("GET", RSS_PATH, Response(200, rss(items)))
    result = RSSNetwork().fetch(gazette, "")
    hashed, linked = ids(result.bodies)
    assert linked == "https://www.westmere-tc.example/news/easter-bins"
    assert hashed.startswith("sha256:") and len(hashed) == len("sha256:") + 64
    assert RSSNetwork().normalise(result.bodies[1]).external_id == linked


def test_a_bozo_feed_with_entries_is_still_read(gazette, fake_network):
    broken = read("westmere_gazette_rss.xml").replace("</channel>\n</rss>", "")  # truncated
    fake_network.route("GET", RSS_PATH, Response(200, broken))
    assert len(RSSNetwork().fetch(gazette, "").bodies) == 3


@pytest.mark.parametrize(
    "body", ["<html><body><h1>Service unavailable</h1>", "<?xml version='1.0'?><rss><chan", ""]
)
def test_malformed_xml_without_entries_is_transient(gazette, fake_network, body):
    fake_network.route("GET", RSS_PATH, Response(200, body, {"Content-Type": "text/html"}))
    with pytest.raises(TransientError, match="could not read the feed") as caught:
        RSSNetwork().fetch(gazette, "")
    assert not isinstance(caught.value, RateLimited)


# --- errors ---------------------------------------------------------------------------------


def test_503_with_retry_after_is_rate_limited(gazette, fake_network):
    fake_network.fail_next("503", headers={"Retry-After": "120"})
    with pytest.raises(RateLimited) as caught:
        RSSNetwork().fetch(gazette, "")
    assert caught.value.retry_after == 120


def test_429_with_a_retry_after_date_is_rate_limited(gazette, fake_network):
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=90)
    fake_network.fail_next("429", headers={"Retry-After": f"{when:%a, %d %b %Y %H:%M:%S GMT}"})
    with pytest.raises(RateLimited) as caught:
        RSSNetwork().fetch(gazette, "")
    assert caught.value.retry_after is not None and 80 < caught.value.retry_after <= 90


@pytest.mark.parametrize("kind", ["500", "502", "503"])
def test_server_errors_are_transient(gazette, fake_network, kind):
    fake_network.fail_next(kind)
    with pytest.raises(TransientError) as caught:
        RSSNetwork().fetch(gazette, "")
    assert not isinstance(caught.value, RateLimited)


def test_a_timeout_is_transient(gazette, fake_network):
    fake_network.timeout_seconds = 1.5
    fake_network.fail_next("timeout")
    with pytest.raises(TransientError, match="timed out"):
        RSSNetwork(timeout=0.3).fetch(gazette, "")


def test_a_connection_refused_is_transient(gazette):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gazette.set_credentials({"feed_url": f"http://127.0.0.1:{port}{RSS_PATH}"})
    with pytest.raises(TransientError):
        RSSNetwork().fetch(gazette, "")


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_refusals(gazette, fake_network, status):
    fake_network.route("GET", RSS_PATH, Response(status, "nope", {"Content-Type": "text/plain"}))
    with pytest.raises(NetworkRefused, match=str(status)):
        RSSNetwork().fetch(gazette, "")


def test_no_feed_at_the_address_says_so(gazette, fake_network):
    with pytest.raises(NetworkRefused, match="no feed at this address"):
        RSSNetwork().fetch(gazette, "")  # nothing routed: the fake answers 404


@pytest.mark.parametrize(
    "credentials", [{}, {"feed_url": ""}, {"feed_url": "www.westmere-gazette.example/feed"}]
)
def test_missing_or_unusable_credentials_are_refused(gazette, credentials):
    gazette.set_credentials(credentials)
    with pytest.raises(NetworkRefused):
        RSSNetwork().fetch(gazette, "")


def test_basic_auth_is_sent_and_the_password_never_appears_in_errors(gazette, fake_network):
    FakeFeed(fake_network, RSS_PATH, read("westmere_gazette_rss.xml"), login=f"desk:{PASSWORD}")
    url = fake_network.base_url + RSS_PATH
    gazette.set_credentials({"feed_url": url, "username": "desk", "password": PASSWORD})
    assert len(RSSNetwork().fetch(gazette, "").bodies) == 3
    sent = fake_network.calls("GET", RSS_PATH)[-1]
    assert (
        sent.headers["authorization"]
        == "Basic " + base64.b64encode(f"desk:{PASSWORD}".encode()).decode()
    )

    gazette.set_credentials({"feed_url": url, "username": "desk", "password": "wrong-" + PASSWORD})
    with pytest.raises(NetworkRefused, match="401") as caught:
        RSSNetwork().fetch(gazette, "")
    assert PASSWORD not in str(caught.value) and "desk" not in str(caught.value)
    assert PASSWORD not in repr(caught.value)


def test_secrets_in_the_feed_url_never_appear_in_errors(gazette, fake_network, caplog):
    host = fake_network.base_url.removeprefix("http://")
    gazette.set_credentials({"feed_url": f"http://desk:{PASSWORD}@{host}/private.xml?key=s3cret"})
    caplog.set_level("DEBUG")
    with pytest.raises(NetworkRefused) as caught:
        RSSNetwork().fetch(gazette, "")
    assert PASSWORD not in str(caught.value) and "s3cret" not in str(caught.value)
    assert "/private.xml" in str(caught.value)
    assert PASSWORD not in caplog.text
    sent = fake_network.calls("GET", "/private.xml")[-1]
    assert (
        sent.headers["authorization"]
        == "Basic " + base64.b64encode(f"desk:{PASSWORD}".encode()).decode()
    )  # user:password@ in the URL becomes basic auth, out of the logged URL


def test_publish_is_not_supported(gazette):
    network = RSSNetwork()
    assert network.can_fetch and not network.can_publish and network.kind == "rss"
    with pytest.raises(NotSupported):
        network.publish(gazette, "Thanks for sharing")


# --- normalising ----------------------------------------------------------------------------


def test_an_rss_item_normalises_to_plain_text(gazette, fake_network):
    FakeFeed(fake_network, RSS_PATH, read("westmere_gazette_rss.xml"))
    bodies = RSSNetwork().fetch(gazette, "").bodies
    message = RSSNetwork().normalise(bodies[-1])
    assert message.network == "rss"
    assert message.external_id == "gazette-news-118230"
    assert message.author_handle == "Westmere Gazette"
    assert message.author_name == "Priya Shah"
    assert message.text == (
        "Dudley Road closed after lorry sheds load near Mill Lane\n\n"
        "Dudley Road is closed in both directions between Mill Lane and the Station roundabout "
        "after a lorry shed its load of timber at about 8.15am.\n"
        "Police ask drivers to avoid the area & use the A4123 \u2013 diversions are signed."
    )
    assert message.created_at == dt.datetime(2026, 3, 14, 9, 40, tzinfo=dt.UTC)
    assert message.attachments == [
        {
            "type": "link",
            "url": "https://www.westmere-gazette.example/news/2026/03/14/dudley-road-closed-lorry",
        }
    ]
    appeal = RSSNetwork().normalise(bodies[1])
    assert "tools worth \u00a31,200 taken" in appeal.text and "<" not in appeal.text
    lights = RSSNetwork().normalise(bodies[0])
    assert lights.author_name == "Newsdesk"  # no item author: the channel's managingEditor


def test_an_atom_entry_normalises_with_utc_times(gazette, fake_network):
    gazette.set_credentials({"feed_url": fake_network.base_url + ATOM_PATH})
    fake_network.route(
        "GET",
        ATOM_PATH,
        Response(200, read("westmere_council_atom.xml"), {"Content-Type": "application/atom+xml"}),
    )
    bodies = RSSNetwork().fetch(gazette, "").bodies
    assert ids(bodies) == [
        "tag:westmere-tc.example,2026:news/4466",
        "tag:westmere-tc.example,2026:news/4471",
    ]
    meeting = RSSNetwork().normalise(bodies[0])
    assert meeting.author_handle == "Westmere Town Council: news and notices"
    assert meeting.author_name == "Clerk to the Council"
    assert meeting.created_at == dt.datetime(2026, 3, 11, 10, 0, tzinfo=dt.UTC)  # +01:00 in
    assert meeting.created_at.utcoffset() == dt.timedelta(0)
    assert json.loads(bodies[0])["updated"] == "2026-03-12T15:30:00+00:00"
    assert meeting.text.startswith("Community safety meeting: Dudley Road and Station ward\n\n")
    assert "7pm & the neighbourhood policing team will attend." in meeting.text
    footbridge = RSSNetwork().normalise(bodies[1])
    assert footbridge.text == (
        "Temporary closure of Canal Street footbridge\n\n"
        "The Canal Street footbridge will close from 16 to 20 March for repairs to its handrails."
    )
    assert footbridge.author_name == "Highways Team"
    assert footbridge.attachments == [
        {
            "type": "link",
            "url": "https://www.westmere-tc.example/news/canal-street-footbridge-closure",
        }
    ]


def test_an_entry_without_times_is_dated_now():
    before = dt.datetime.now(dt.UTC)
    message = RSSNetwork().normalise(json.dumps({"id": "x-1", "title": "Notice"}))
    assert before <= message.created_at <= dt.datetime.now(dt.UTC)
    assert message.author_handle == "" and message.attachments == []


def test_an_overlong_id_is_hashed_to_fit():
    message = RSSNetwork().normalise(
        json.dumps({"id": "https://x.example/" + "a" * 300, "title": "T"})
    )
    assert message.external_id.startswith("sha256:") and len(message.external_id) <= 200


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("<rss/>", "not JSON"),
        ("[1, 2]", "JSON object"),
        (json.dumps({"title": "No id"}), "no id"),
        (json.dumps({"id": "a-1", "title": "", "summary": "<p> </p>"}), "neither"),
    ],
)
def test_an_unreadable_delivery_is_a_payload_error(body, reason):
    with pytest.raises(PayloadError, match=reason):
        RSSNetwork().normalise(body)


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>One</p><p>Two &amp; three</p>", "One\nTwo & three"),
        ("Line<br/>next   word\n\t here", "Line\nnext word here"),
        ("<script>alert(1)</script>Safe &pound;5&nbsp;off", "Safe \u00a35 off"),
        ("<ul><li>A</li><li>B</li></ul>", "A\nB"),
        ("Plain &#8220;quoted&#8221;", "Plain \u201cquoted\u201d"),
    ],
)
def test_html_to_text(markup, text):
    assert html_to_text(markup) == text


def test_fetched_entries_become_messages_through_the_one_ingestion_path(gazette, fake_network):
    from beatdesk.inbox.models import Message
    from beatdesk.networks.actions import do_fetch

    FakeFeed(fake_network, RSS_PATH, read("westmere_gazette_rss.xml"))
    outcome = do_fetch(gazette)
    assert outcome.status == "fetched" and outcome.stored == outcome.fetched > 0
    assert Message.objects.filter(network="rss").count() == outcome.stored


def test_the_poller_waits_as_long_as_the_feed_asks(gazette, fake_network):
    import datetime as dt

    from beatdesk.networks.actions import do_fetch
    from beatdesk.networks.models import ChannelHealth

    FakeFeed(fake_network, RSS_PATH, read("westmere_gazette_rss.xml"))
    fake_network.fail_next("503", headers={"Retry-After": "300"})
    started = dt.datetime.now(dt.UTC)
    assert do_fetch(gazette).status == "failed"
    waits_until = ChannelHealth.objects.get(account=gazette).next_attempt_at
    assert waits_until >= started + dt.timedelta(seconds=298)
    assert do_fetch(gazette).status == "waiting"
