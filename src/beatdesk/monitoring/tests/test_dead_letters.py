"""A watch item that cannot be read becomes a dead letter, as the inbox's deliveries do:
kept verbatim with the reason, shown to supervisors on the dead-letters page (audited with
the watch's purpose) and read again from there after a fix."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command

from beatdesk.accounts.models import Force, User
from beatdesk.audit.models import AuditEvent
from beatdesk.monitoring.collect import do_collect
from beatdesk.monitoring.models import UnreadableItem, Watch, WatchPost
from beatdesk.monitoring.tests.test_collect import TOKEN, MastodonSearch, searching_account, status
from beatdesk.networks.mastodon import inbound as mastodon
from beatdesk.testing.fakenet import FakeNetwork
from beatdesk.testing.fakenet import fake_network as fake_network  # noqa: F401
from beatdesk.testing.fixtures import signed_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_unreadable_watch_item_is_a_dead_letter_read_again_after_a_fix(
    force: Force,
    users: dict[str, User],
    make_watch: Callable[..., Watch],
    fake_network: FakeNetwork,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = status(2)
    del broken["created_at"]  # an instance that leaves out the time
    MastodonSearch(fake_network, [status(1), broken])
    account = searching_account(
        force, "mastodon", {"instance": fake_network.base_url, "access_token": TOKEN}
    )
    watch = make_watch(network="mastodon", account=account)

    outcome = do_collect(watch)
    assert (outcome.found, outcome.stored) == (1, 1)
    assert "1 unreadable item(s) kept as dead letters" in outcome.detail
    item = UnreadableItem.objects.get()
    assert item.watch == watch and item.network == "mastodon" and item.read_at is None
    assert json.loads(item.body)["id"] == broken["id"] and "time" in item.error
    watch.refresh_from_db()
    watch.cursor = ""  # collected again after a restart: the same item is kept once
    do_collect(watch)
    assert UnreadableItem.objects.count() == 1
    call_command("status", "--json")
    assert json.loads(capsys.readouterr().out)["watch_dead_letters"] == 1

    sergeant = signed_in(users["sgt.hughes"])
    page = sergeant.get("/networks/dead-letters/").content.decode()
    assert "data-watch-dead-letters" in page and watch.name in page and item.error in page
    assert f"/networks/dead-letters/watch/{item.pk}/retry/" in page
    viewed = AuditEvent.objects.get(action="watch_dead_letters.view")
    assert watch.purpose in viewed.justification
    assert signed_in(users["dana.desk"]).get("/networks/dead-letters/").status_code == 403

    answer = sergeant.post(f"/networks/dead-letters/watch/{item.pk}/retry/", follow=True)
    assert b"Still unreadable" in answer.content
    assert WatchPost.objects.filter(watch=watch).count() == 1

    read = mastodon.normalise_status

    def fixed(raw: str) -> Any:  # the connector learns to take the edit time instead
        body = json.loads(raw)
        body.setdefault("created_at", "2026-03-14T12:02:00Z")
        return read(json.dumps(body))

    monkeypatch.setattr(mastodon, "normalise_status", fixed)
    answer = sergeant.post(f"/networks/dead-letters/watch/{item.pk}/retry/", follow=True)
    assert b"Read it" in answer.content
    item.refresh_from_db()
    assert item.read_at is not None and item.watch_post is not None
    assert item.watch_post.raw == item.body  # stored verbatim, as the network sent it
    assert WatchPost.objects.filter(watch=watch).count() == 2
    assert AuditEvent.objects.filter(action="dead_letter.retried").count() == 2
    assert "data-watch-dead-letters" not in sergeant.get("/networks/dead-letters/").content.decode()
