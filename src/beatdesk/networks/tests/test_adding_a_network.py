"""docs/adding-a-network.md, followed: a small network in a folder of its own, registered
with the one line, takes a message in and a post out with no other edit to the desk."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from beatdesk.inbox.models import InboundPayload, Message
from beatdesk.networks import registry
from beatdesk.networks.actions import do_fetch, fetchable_accounts
from beatdesk.networks.models import NetworkAccount
from beatdesk.publishing import actions as publishing_actions
from beatdesk.publishing.models import Post
from beatdesk.publishing.tasks import send_post
from beatdesk.testing.fakenet import FakeNetwork, Request, Response
from beatdesk.testing.fixtures import route

pytestmark = pytest.mark.django_db

# The folder, as the guide says: __init__.py, client.py (every call through networks/http.py)
# and inbound.py (the Network subclass, normalising, fetching and publishing).
TOY = {
    "__init__.py": '"""Toot: a small network that only exists in this test."""\n',
    "client.py": '''
        """HTTP to Toot, through the desk's one HTTP layer."""

        from __future__ import annotations

        from typing import Any

        from beatdesk.networks import http
        from beatdesk.networks.base import Budget, NetworkRefused


        def call(
            account: Any, method: str, path: str, body: dict[str, Any] | None = None
        ) -> tuple[dict[str, Any], Budget]:
            credentials = account.get_credentials()
            if not credentials.get("token"):
                raise NetworkRefused("the Toot account has no token: reconnect it")
            what = f"Toot {method} {path}"
            response = http.send(
                method,
                str(credentials["base_url"]) + path,
                what=what,
                json=body,
                headers={"Authorization": f"Bearer {credentials['token']}"},
            )
            budget = http.budget_from(response.headers)
            http.raise_for_status(response, what, budget=budget)
            return http.json_object(response, what), budget
        ''',
    "inbound.py": '''
        """The Toot connector: mentions fetched since a cursor, posts published."""

        from __future__ import annotations

        import json
        from typing import Any, ClassVar

        from beatdesk.networks.base import (
            NO_OPTIONS,
            FetchResult,
            Field,
            Inbound,
            Network,
            PayloadError,
            PostOptions,
            parse_time,
            read_json,
        )
        from beatdesk.networks.length import Counting

        from .client import call


        class TootNetwork(Network):
            kind: ClassVar[str] = "toot"
            label: ClassVar[str] = "Toot"
            can_fetch: ClassVar[bool] = True
            can_publish: ClassVar[bool] = True
            counting: ClassVar[Counting | None] = Counting(limit=200)
            credential_fields: ClassVar[tuple[Field, ...]] = (
                Field("base_url", "Server"),
                Field("token", "Token", secret=True),
            )

            def normalise(self, body: str) -> Inbound:
                item = read_json(body, "a toot")
                if not isinstance(item, dict) or not item.get("id"):
                    raise PayloadError("a toot needs an id")
                return Inbound(
                    network=self.kind,
                    external_id=str(item["id"]),
                    author_handle="@" + str(item.get("from") or "someone"),
                    text=str(item.get("text") or ""),
                    created_at=parse_time(item.get("at")),
                )

            def fetch(self, account: Any, cursor: str) -> FetchResult:
                page, budget = call(account, "GET", f"/mentions?after={cursor}")
                toots = [t for t in page.get("toots", []) if isinstance(t, dict)]
                newest = max((str(t["id"]) for t in toots), default=cursor)
                return FetchResult([json.dumps(t) for t in toots], newest, budget)

            def publish(self, account: Any, text: str, options: PostOptions = NO_OPTIONS) -> str:
                body = {"text": text, "reply_to": options.reply_to, "key": options.idempotency_key}
                answer, _budget = call(account, "POST", "/toots", body)
                return str(answer["id"])
        ''',
}
LINE = "toynet.inbound.TootNetwork"  # the one line: CONNECTORS["toot"] = LINE


@pytest.fixture
def toot_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / "toynet"
    folder.mkdir()
    for name, source in TOY.items():
        (folder / name).write_text(textwrap.dedent(source).lstrip())
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry.CONNECTORS, "toot", LINE)
    registry.connector.cache_clear()
    yield
    registry.connector.cache_clear()


def test_a_network_in_its_own_folder_takes_a_message_in_and_a_post_out(
    toot_network, fake_network: FakeNetwork, force, users
):
    mentions = {
        "toots": [
            {
                "id": "101",
                "from": "sam_w",
                "text": "Someone is trying car door handles on Dudley Road right now",
                "at": "2026-03-14T21:40:00Z",
            }
        ]
    }
    fake_network.route(
        "GET",
        "/mentions",
        lambda request: Response(200, {} if request.param("after") else mentions),
    )
    received: list[Request] = []

    def take(request: Request) -> Response:
        received.append(request)
        return Response(201, {"id": "900"})

    fake_network.route("POST", "/toots", take)

    account = NetworkAccount.objects.create(force=force, kind="toot", handle="@westmere")
    account.set_credentials({"base_url": fake_network.base_url, "token": "t0k"})
    account.save()
    assert account.get_kind_display() == "Toot"  # a choice wherever kinds are, unmigrated
    assert account in fetchable_accounts()

    # In: fetched, stored raw first, then triaged and routed like any network's message.
    outcome = do_fetch(account)
    assert (outcome.status, outcome.fetched, outcome.stored) == ("fetched", 1, 1)
    assert InboundPayload.objects.filter(account=account).count() == 1
    message = Message.objects.get(account=account, external_id="101")
    assert message.network == "toot" and message.author_handle == "@sam_w"
    triaged = route(message.pk)
    assert triaged.triage is not None and triaged.triage.grade
    account.refresh_from_db()
    assert account.cursor == "101"

    # Out: composed (the network's length rule applies), then sent by the one sender.
    with pytest.raises(ValidationError, match="Too long for Toot"):
        publishing_actions.check_compose(
            users["dana.desk"], text="a " * 150, kind="event", account_ids=[account.pk], send="now"
        )
    (post,) = publishing_actions.check_compose(
        users["dana.desk"],
        text="Officers are patrolling Dudley Road tonight; thank you for telling us.",
        kind="event",
        account_ids=[account.pk],
        send="now",
    )
    send_post.call(post.pk)
    post.refresh_from_db()
    assert (post.status, post.external_id) == (Post.Status.SENT, "900")
    (sent,) = received
    assert json.loads(sent.body)["text"].startswith("Officers are patrolling Dudley Road")
    assert sent.headers.get("authorization") == "Bearer t0k"
