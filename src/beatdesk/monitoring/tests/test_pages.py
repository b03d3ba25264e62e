"""The monitoring pages as staff use them: empty states, the approval queue, the expiry
countdown, and results whose every view is an audited consultation with the purpose."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client

from beatdesk.accounts.models import User
from beatdesk.audit.models import AuditEvent
from beatdesk.core.clock import now
from beatdesk.monitoring.actions import CollectedPost, do_store_posts
from beatdesk.monitoring.models import Operation, Watch

pytestmark = pytest.mark.django_db


def test_empty_monitoring_page_says_what_to_do(
    force: object, client_for: Callable[[str], Client]
) -> None:
    Watch.objects.all().delete()
    Operation.objects.all().delete()  # the demo force comes with Op Lantern
    page = client_for("sgt.hughes").get("/monitoring/").content.decode()
    assert "No operations yet" in page and "New operation" in page
    assert 'href="/monitoring/"' in page  # the Monitoring link in the main navigation
    officer = client_for("pcso.patel").get("/monitoring/").content.decode()
    assert "A supervisor sets up operations" in officer and "New operation" not in officer


def test_the_demo_force_has_its_carnival_operation(
    force: object, client_for: Callable[[str], Client]
) -> None:
    page = client_for("dana.desk").get("/monitoring/").content.decode()
    assert "Op Lantern — Westmere Carnival" in page
    demo = Operation.objects.get(name="Op Lantern — Westmere Carnival")
    assert demo.watches.get().is_collecting
    assert f'href="/stories/operations/{demo.pk}/board/"' in page  # its live board
    officer = client_for("pcso.patel").get("/monitoring/").content.decode()
    assert "/board/" not in officer and 'href="/stories/"' not in officer  # not for officers


def test_advisers_see_no_monitoring(
    operation: Operation, client_for: Callable[[str], Client]
) -> None:
    assert client_for("ruth.iag").get(f"/monitoring/operations/{operation.pk}/").status_code == 403


def test_operation_page_lists_watches_with_state_and_expiry(
    operation: Operation, make_watch: Callable[..., Watch], client_for: Callable[[str], Client]
) -> None:
    at = now()
    make_watch(name="Carnival hashtag", expires_at=at + dt.timedelta(days=2, hours=3))
    make_watch(
        name="Old watch", starts_at=at - dt.timedelta(days=3), expires_at=at - dt.timedelta(hours=2)
    )
    page = (
        client_for("alex.analyst").get(f"/monitoring/operations/{operation.pk}/").content.decode()
    )
    assert "Carnival hashtag" in page and "collecting" in page and "expires in 2" in page
    assert "Old watch" in page and "expired" in page
    assert "Propose a watch" not in page  # analysts view only


def test_watch_form_explains_the_rules_up_front(
    operation: Operation, client_for: Callable[[str], Client]
) -> None:
    page = (
        client_for("pcso.patel")
        .get(f"/monitoring/operations/{operation.pk}/watches/new/")
        .content.decode()
    )
    assert "Purpose" in page and "at most 90 days" in page and "never a person" in page.lower()


def test_approval_queue_approves_with_a_reason(
    operation: Operation,
    make_watch: Callable[..., Watch],
    users: dict[str, User],
    client_for: Callable[[str], Client],
) -> None:
    watch = make_watch(name="Crush words", status=Watch.Status.AWAITING_APPROVAL, approved_by=None)
    assert client_for("dana.desk").get("/monitoring/approvals/").status_code == 403
    supervisor = client_for("sgt.hughes")
    assert "Crush words" in supervisor.get("/monitoring/approvals/").content.decode()
    supervisor.post(
        f"/monitoring/watches/{watch.pk}/decide/",
        {"decision": "approve", "reason": "needed for crowd safety", "back": "approvals"},
    )
    watch.refresh_from_db()
    assert watch.status == Watch.Status.ACTIVE and watch.approved_by == users["sgt.hughes"]
    assert "Nothing awaits approval" in supervisor.get("/monitoring/approvals/").content.decode()


def test_every_view_of_results_is_a_consultation_with_the_watchs_purpose(
    make_watch: Callable[..., Watch], users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    watch = make_watch(name="Carnival hashtag", purpose="Crowd safety at the carnival")
    do_store_posts(
        watch,
        [
            CollectedPost(
                network="replay",
                external_id="1",
                author_handle="@someone",
                text="Packed by the bandstand #WestmereCarnival",
                posted_at=now(),
                raw='{"id": "1"}',
                latitude=52.51,
                longitude=-2.08,
            )
        ],
    )
    client = client_for("alex.analyst")
    for _ in range(2):
        page = client.get(f"/monitoring/watches/{watch.pk}/").content.decode()
        assert "Packed by the bandstand" in page
        assert "Crowd safety at the carnival" in page  # the purpose is on the page
    views = AuditEvent.objects.filter(action="watch.results_viewed", object_id=str(watch.pk))
    assert views.count() == 2
    assert all(e.category == "consultation" for e in views)
    assert all("Crowd safety at the carnival" in e.justification for e in views)
    assert {e.actor_id for e in views} == {users["alex.analyst"].pk}


def test_an_expired_watch_says_so(
    make_watch: Callable[..., Watch], client_for: Callable[[str], Client]
) -> None:
    at = now()
    watch = make_watch(starts_at=at - dt.timedelta(days=3), expires_at=at - dt.timedelta(hours=1))
    page = client_for("dana.desk").get(f"/monitoring/watches/{watch.pk}/").content.decode()
    assert "expired" in page and "no longer collects" in page


def _queries_for(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_pages_do_not_grow_a_query_per_row(
    operation: Operation, make_watch: Callable[..., Watch], client_for: Callable[[str], Client]
) -> None:
    client = client_for("dana.desk")
    first = make_watch(name="w0")
    do_store_posts(
        first,
        [
            CollectedPost("replay", str(n), "@a", f"post {n}", now(), f'{{"id": {n}}}')
            for n in range(3)
        ],
    )
    urls = [
        "/monitoring/",
        f"/monitoring/operations/{operation.pk}/",
        f"/monitoring/watches/{first.pk}/",
    ]
    before = [_queries_for(client, url) for url in urls]
    for n in range(1, 6):
        make_watch(name=f"w{n}")
        do_store_posts(
            first,
            [
                CollectedPost("replay", f"{n}-{m}", "@b", "more", now(), f'{{"id": "{n}-{m}"}}')
                for m in range(5)
            ],
        )
    after = [_queries_for(client, url) for url in urls]
    assert after == before


def test_the_operation_board_reads_every_watchs_posts_as_consultations(
    operation: Operation, make_watch: Callable[..., Watch], users: dict[str, User]
) -> None:
    from beatdesk.monitoring.queries import consult_operation_posts

    hashtag = make_watch(name="hashtag", purpose="Crowd safety")
    words = make_watch(name="words", purpose="Rumours of a crush")
    for watch in (hashtag, words):
        do_store_posts(watch, [CollectedPost("replay", "1", "@a", "x", now(), '{"id": 1}')])
    posts = consult_operation_posts(users["alex.analyst"], operation)
    assert {p.watch_id for p in posts} == {hashtag.pk, words.pk}
    reasons = set(
        AuditEvent.objects.filter(action="watch.board_viewed").values_list(
            "justification", flat=True
        )
    )
    assert reasons == {"Op Lantern: Crowd safety", "Op Lantern: Rumours of a crush"}
