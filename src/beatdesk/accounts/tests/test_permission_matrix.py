"""The permission matrix: every URL pattern, every method, every role, on a record of the
user's own team, of another team, of another force, and on a missing id, against the table
of rules in accounts/doors.py.

One world is seeded for the module: two forces (Westmere, from the demo seed, and a second
one seeded the same way), each with every role, messages, cases, drafts, an operation with
a watch, a story, a rumour, a live event with an entry, dead letters and alerts. Each test
runs inside a savepoint of that world and is rolled back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from beatdesk.accounts.doors import DOORS, EVERYONE, Door
from beatdesk.accounts.models import Area, Force, Team, User
from beatdesk.audit.models import AuditEvent
from beatdesk.cases.actions import check_create_case
from beatdesk.demo.seed import seed
from beatdesk.inbox.actions import do_receive
from beatdesk.inbox.models import BulkOperation, InboundPayload
from beatdesk.live.models import LiveEntry, LiveEvent
from beatdesk.monitoring.models import UnreadableItem, Watch
from beatdesk.networks.models import NetworkAccount
from beatdesk.publishing.models import Post
from beatdesk.stories.models import Rumour, Story
from beatdesk.testing.fixtures import page_body, route, signed_in
from beatdesk.triage.models import Alert, RoutingRule

MISSING = 987654
# The officer of each force works the Dudley Road team; Canal Side is "another team".
OWN_TEAM_ACCOUNT = "@WMP_DudleyRd"
OTHER_TEAM_ACCOUNT = "@WMP_CanalSide"
ROLE_USERS = {
    "officer": "pcso.patel",
    "desk_operator": "dana.desk",
    "supervisor": "sgt.hughes",
    "analyst": "alex.analyst",
    "administrator": "admin",
    "adviser": "ruth.iag",
}
SECOND = "eh."  # usernames and handles of the second force


# -- the URL patterns -----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # "app:name", or the route itself for an unnamed pattern
    route: str
    kwargs: tuple[str, ...]


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(filter(None, [namespace, p.namespace or ""]))
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            full = prefix + str(p.pattern)
            name = ":".join(filter(None, [namespace, p.name])) if p.name else full
            yield Route(name, full, tuple(p.pattern.converters))


ROUTES = sorted(_walk(get_resolver().url_patterns), key=lambda r: r.name)


def test_every_url_pattern_has_a_rule() -> None:
    missing = [r.name for r in ROUTES if r.name not in DOORS]
    assert not missing, f"URL patterns with no rule in accounts/doors.py: {missing}"
    stale = sorted(set(DOORS) - {r.name for r in ROUTES})
    assert not stale, f"rules in accounts/doors.py for no URL pattern: {stale}"


# -- the world ------------------------------------------------------------------------------


def _message(account: NetworkAccount, key: str) -> int:
    body = {"id": key, "network": "x", "author": "@resident", "text": f"bikes {key}"}
    body["account"] = account.handle
    replay = NetworkAccount.objects.get(force=account.force, kind="replay")
    received = do_receive(replay, json.dumps(body))
    message = route(received.message_id)
    message.team = account.owning_team
    message.save(update_fields=["team"])
    return message.pk


def _second_force() -> Force:
    """Run the demo seed again for a second force, after moving the first one's slug,
    usernames and handles aside, then give the new force its own names."""
    first = Force.objects.get(slug="westmere")
    users = list(User.objects.filter(force=first))
    accounts = list(NetworkAccount.objects.filter(force=first))
    first.slug = "westmere-aside"
    first.save()
    for u in users:
        User.objects.filter(pk=u.pk).update(username="aside." + u.username)
    for a in accounts:
        NetworkAccount.objects.filter(pk=a.pk).update(handle="aside." + a.handle)
    second = seed()
    Force.objects.filter(pk=second.pk).update(
        slug="eastholm", name="Eastholm Police", reference_prefix="EH"
    )
    for u in User.objects.filter(force=second):
        User.objects.filter(pk=u.pk).update(username=SECOND + u.username)
    for a in NetworkAccount.objects.filter(force=second):
        NetworkAccount.objects.filter(pk=a.pk).update(handle=SECOND + a.handle)
    Force.objects.filter(pk=first.pk).update(slug="westmere")
    for u in users:
        User.objects.filter(pk=u.pk).update(username=u.username)
    for a in accounts:
        NetworkAccount.objects.filter(pk=a.pk).update(handle=a.handle)
    second.refresh_from_db()
    return second


def _records(force: Force, prefix: str, tag: str, team_account: str) -> dict[str, dict[str, Any]]:
    """One record of every kind for this force, on the team account given."""
    account = NetworkAccount.objects.get(force=force, handle=prefix + team_account)
    desk = User.objects.get(username=prefix + "dana.desk")
    at = timezone.now()
    message_id = _message(account, f"{tag}-m")
    case = check_create_case(desk, [message_id], title=f"Case {tag}")
    group = f"g{tag}"
    Post.objects.create(
        force=force,
        account=account,
        author=desk,
        text=f"Draft {tag}",
        group=group,
        kind=Post.Kind.UPDATE,
        idempotency_key=f"key-{tag}",
    )
    watch = Watch.objects.filter(operation__force=force).select_related("operation").first()
    assert watch is not None
    story = Story.objects.create(force=force, first_seen=at, last_seen=at)
    rumour = Rumour.objects.create(
        force=force,
        claim=f"Claim {tag}",
        owner=desk,
        created_by=desk,
        created_at=at,
        updated_at=at,
    )
    event = LiveEvent.objects.create(
        force=force,
        name=f"Event {tag}",
        hashtag=f"#ev{tag}",
        starts_at=at,
        ends_at=at + dt.timedelta(hours=4),
    )
    entry = LiveEntry.objects.create(
        event=event,
        number=1,
        occurred_at=at,
        type="Road closure",
        text="Road closed",
        source=LiveEntry.Source.CSV,
        reference=f"ref-{tag}",
    )
    body = f"not json {tag}"
    payload = InboundPayload.objects.create(
        network="x",
        account=account,
        body=body,
        sha256=hashlib.sha256(body.encode()).hexdigest(),
        status=InboundPayload.Status.FAILED,
    )
    item = UnreadableItem.objects.create(
        watch=watch,
        network="x",
        body=body,
        sha256=hashlib.sha256(body.encode()).hexdigest(),
        error="not JSON",
    )
    alert = Alert.objects.create(force=force, message_id=message_id, raised_at=at)
    bulk = BulkOperation.objects.create(
        user=desk, action="close", description=f"bulk {tag}", before={}, created_at=at
    )
    rule = RoutingRule.objects.filter(force=force).first()
    assert rule is not None
    # A user of its own, so that disabling it in one call leaves the named role users be.
    person = User.objects.create(username=f"{prefix}person-{tag}", force=force, role="officer")
    team = Team.objects.filter(force=force).first()
    area = Area.objects.filter(force=force).first()
    assert team is not None and area is not None
    return {
        "inbox.message": {"pk": message_id, "message_id": message_id},
        "cases.case": {"pk": case.pk},
        "publishing.post": {"group": group, "post_id": Post.objects.get(group=group).pk},
        "triage.alert": {"pk": alert.pk},
        "monitoring.operation": {"pk": watch.operation_id},
        "monitoring.watch": {"pk": watch.pk},
        "stories.story": {"pk": story.pk},
        "stories.rumour": {"pk": rumour.pk},
        "live.liveevent": {"event_id": event.pk},
        "live.liveentry": {"event_id": event.pk, "entry_id": entry.pk},
        "inbox.inboundpayload": {"pk": payload.pk},
        "monitoring.unreadableitem": {"pk": item.pk},
        "networks.networkaccount": {"pk": account.pk, "account_id": account.pk},
        "triage.routingrule": {"pk": rule.pk},
        "inbox.bulkoperation": {"pk": bulk.pk},
        "accounts.user": {"pk": person.pk},
        "accounts.team": {"pk": team.pk},
        "accounts.area": {"pk": area.pk},
    }


@dataclass
class World:
    users: dict[str, User]
    own: dict[str, dict[str, Any]]
    other_team: dict[str, dict[str, Any]]
    other_force: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            first = seed()
            second = _second_force()
            # A worker and the scheduler beating, as in any running desk: /healthz answers
            # 200, not 503.
            from beatdesk.operations.scheduler import Lease
            from beatdesk.operations.sweep import beat

            beat("matrix-worker", "database")
            Lease().renew()
            users = {role: User.objects.get(username=name) for role, name in ROLE_USERS.items()}
            built = World(
                users=users,
                own=_records(first, "", "a1", OWN_TEAM_ACCOUNT),
                other_team=_records(first, "", "a2", OTHER_TEAM_ACCOUNT),
                other_force=_records(second, SECOND, "b1", OWN_TEAM_ACCOUNT),
            )
            yield built
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# -- the matrix -----------------------------------------------------------------------------

METHODS = ("GET", "POST")
LOGIN = "/accounts/login/"


def _kwargs(route: Route, ids: dict[str, Any] | None) -> dict[str, Any]:
    if not route.kwargs:
        return {}
    if ids is None:
        return {k: ("missing" if k == "group" else MISSING) for k in route.kwargs}
    return {k: ids[k] for k in route.kwargs}


def _path(route: Route, kwargs: dict[str, Any]) -> str:
    path = "/" + route.route
    for key, value in kwargs.items():
        for conv in ("int", "str", "slug"):
            path = path.replace(f"<{conv}:{key}>", str(value))
    return path


def _call(client: Client, method: str, path: str) -> Any:
    return client.get(path) if method == "GET" else client.post(path, {})


def _is_login(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


def _allowed(response: Any) -> bool:
    return (
        response.status_code < 500
        and response.status_code not in (403, 404, 405)
        and (not _is_login(response))
    )


def _cases(route: Route) -> list[tuple[str, str]]:
    """(role, reach) pairs: every role and anonymous, on each reach the URL can name."""
    reaches = ["own", "other_team", "other_force", "missing"] if route.kwargs else ["none"]
    roles = [*sorted(EVERYONE), "anonymous"]
    return [(role, reach) for role in roles for reach in reaches]


def _expect(door: Door, method: str, role: str, reach: str) -> str:
    """What the table says the answer is: allowed, 403, 404, login or 405."""
    if door.public:
        return "public"
    if role == "anonymous":
        return "login"
    if method not in door.methods:
        return "405"
    if not door.allows(method, role):
        return "403"
    if reach == "missing":
        return "404"
    if reach == "none":
        return "allowed"
    seen = door.sees(role, same_force=reach != "other_force", same_team=reach == "own")
    return "allowed" if seen else "404"


def _matches(door: Door, expected: str, response: Any) -> bool:
    code = response.status_code
    if expected == "public":
        return code < 500 and (door.to_sign_in or not _is_login(response))
    if expected == "login":
        return _is_login(response)
    if expected == "405":
        return code == 405
    if expected == "403":
        return code == 403
    if expected == "404":
        return code == 404
    return _allowed(response)


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_matrix(route: Route, world: World, db: None) -> None:
    door = DOORS.get(route.name)
    assert door is not None, f"{route.name} ({route.route}) has no rule in accounts/doors.py"
    clients = {role: signed_in(user) for role, user in world.users.items()}
    clients["anonymous"] = Client()
    wrong: list[str] = []
    for method in METHODS:
        for role, reach in _cases(route):
            ids = None if reach in ("missing", "none") else getattr(world, reach)
            record = door.record.kind if door.record else None
            if route.kwargs and record is None and not door.public:
                wrong.append(f"{route.name}: names a record but its rule gives no record kind")
                continue
            kwargs = _kwargs(route, ids[record] if ids and record else None)
            if door.public and route.kwargs and ids is None:
                kwargs = _kwargs(route, None)
            elif door.public and route.kwargs:
                continue  # public endpoints take their own ids; called once, on a missing id
            path = _path(route, kwargs)
            refusals = AuditEvent.objects.filter(action="access.refused").count()
            with transaction.atomic():
                response = _call(clients[role], method, path)
            expected = _expect(door, method, role, reach)
            if expected == "405" and response.status_code != 405:
                # A page that answers POST as it answers GET opens no other door.
                expected = _expect(door, next(iter(door.methods)), role, reach)
            if not _matches(door, expected, response):
                where = response.get("Location", "")
                wrong.append(
                    f"{method} {path} as {role} on {reach}: "
                    f"expected {expected}, got {response.status_code} {where}"
                )
                continue
            refused = expected in ("403", "404") and role != "anonymous"
            if refused and AuditEvent.objects.filter(action="access.refused").count() == refusals:
                wrong.append(f"{method} {path} as {role} on {reach}: refused, not audited")
    assert not wrong, f"{len(wrong)} answers differ from the table:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.kwargs], ids=[r.name for r in ROUTES if r.kwargs]
)
def test_hidden_and_missing_answer_alike(route: Route, world: World, db: None) -> None:
    """A record of another force and a missing id: the same status and the same body."""
    door = DOORS.get(route.name)
    if door is None or door.public or door.record is None:
        pytest.skip("public, or names no record")
    method = "GET" if "GET" in door.methods else "POST"
    client = signed_in(world.users[min(door.methods[method])])
    theirs = _kwargs(route, world.other_force[door.record.kind])
    hidden = _call(client, method, _path(route, theirs))
    missing = _call(client, method, _path(route, _kwargs(route, None)))
    assert hidden.status_code == missing.status_code == 404
    assert page_body(hidden) == page_body(missing)


# The page that asks for the second factor is the one door a password alone opens.
SECOND_FACTOR = "/accounts/two-factor/"


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_a_password_alone_opens_no_door(route: Route, world: World, db: None) -> None:
    """A session that has given its password but not its second factor is sent to the
    second-factor page by every staff door, and changes nothing (the shift switch included)."""
    door = DOORS[route.name]
    if door.public or route.name == "accounts:second_factor":
        pytest.skip("public, or the second-factor page itself")
    client = Client()
    client.force_login(world.users["supervisor"])
    path = _path(route, _kwargs(route, world.own[door.record.kind] if door.record else None))
    for method in METHODS:
        response = _call(client, method, path)
        assert response.status_code == 302, f"{method} {path}"
        assert response["Location"] == SECOND_FACTOR, f"{method} {path}"
