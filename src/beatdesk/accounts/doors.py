"""Every door of the desk in one table: for each URL name, who may use it with which method,
what record it names, and how a refusal answers.

The permission matrix (accounts/tests/test_permission_matrix.py) calls every URL pattern
with every method, as every role, on records of the user's own team, of another team, of
another force, and on a missing id, and compares each answer with this table. A URL with
no rule here fails that test.

How a refusal answers:
- a signed-in role that may never open the page: 403, whatever the id;
- a record the role may not see (another team's, another force's) or one that does not
  exist: 404, the same body either way, so ids cannot be probed;
- nobody signed in, on a staff page: a redirect to the sign-in page;
- public endpoints (webhooks, the web form, feeds, the live intake, /healthz) check their
  own secret, limit or token and are marked public.
Every refusal of a signed-in person is audited as `access.refused`.

There is no separate PCSO role: officers and PCSOs share Role.OFFICER.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from beatdesk.accounts.models import Role


class Scope(Enum):
    """How far a record reaches: a team's (messages, cases, drafts on a team's account) or
    the whole force's (operations, stories, live events, …)."""

    TEAM = "team"
    FORCE = "force"


@dataclass(frozen=True)
class Record:
    """The kind of record a URL names by its id, and who sees records of other teams."""

    kind: str
    scope: Scope
    # Roles that see every team's records of their force (officers see their own teams').
    across_teams: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Door:
    """Who may use one URL: per method, the roles let through. `record` is what the URL's
    id names; `public` endpoints take anyone, signed in or not."""

    methods: Mapping[str, frozenset[str]] = field(default_factory=dict)
    record: Record | None = None
    public: bool = False
    # A public door that may send anyone on to the sign-in page (signing out).
    to_sign_in: bool = False

    def allows(self, method: str, role: str) -> bool:
        return self.public or role in self.methods.get(method, frozenset())

    def sees(self, role: str, *, same_force: bool, same_team: bool) -> bool:
        """Whether this role sees a record of the given reach (existing records only)."""
        if self.public or self.record is None:
            return True
        if not same_force:
            return False
        return same_team or self.record.scope is Scope.FORCE or role in self.record.across_teams


OFFICER = Role.OFFICER.value
DESK = Role.DESK_OPERATOR.value
SUPERVISOR = Role.SUPERVISOR.value
ANALYST = Role.ANALYST.value
ADMIN = Role.ADMINISTRATOR.value
ADVISER = Role.ADVISER.value

EVERYONE = frozenset({OFFICER, DESK, SUPERVISOR, ANALYST, ADMIN, ADVISER})
STAFF = frozenset({OFFICER, DESK, SUPERVISOR, ANALYST, ADMIN})
FORCE_WIDE = frozenset({DESK, SUPERVISOR, ANALYST, ADMIN})
WRITERS = frozenset({OFFICER, DESK, SUPERVISOR, ADMIN})  # act on messages, write posts
DESK_ROLES = frozenset({DESK, SUPERVISOR, ADMIN})  # correct triage, run live events, rumours
LEADS = frozenset({SUPERVISOR, ADMIN})  # approve, set rules and targets, dead letters
ADMINS = frozenset({ADMIN})
LIVE_READERS = DESK_ROLES | {ANALYST}

MESSAGE = Record("inbox.message", Scope.TEAM, FORCE_WIDE)
CASE = Record("cases.case", Scope.TEAM, FORCE_WIDE)
# Drafts: an officer sees those on their own teams' accounts; the desk roles see all.
POST = Record("publishing.post", Scope.TEAM, DESK_ROLES)
ALERT = Record("triage.alert", Scope.TEAM, FORCE_WIDE)
OPERATION = Record("monitoring.operation", Scope.FORCE)
WATCH = Record("monitoring.watch", Scope.FORCE)
STORY = Record("stories.story", Scope.FORCE)
RUMOUR = Record("stories.rumour", Scope.FORCE)
LIVE_EVENT = Record("live.liveevent", Scope.FORCE)
LIVE_ENTRY = Record("live.liveentry", Scope.FORCE)
DEAD_LETTER = Record("inbox.inboundpayload", Scope.FORCE)
UNREADABLE = Record("monitoring.unreadableitem", Scope.FORCE)
ACCOUNT = Record("networks.networkaccount", Scope.FORCE)
ROUTING_RULE = Record("triage.routingrule", Scope.FORCE)
BULK = Record("inbox.bulkoperation", Scope.FORCE)
USER = Record("accounts.user", Scope.FORCE)
TEAM = Record("accounts.team", Scope.FORCE)
AREA = Record("accounts.area", Scope.FORCE)


def page(roles: frozenset[str], record: Record | None = None) -> Door:
    """A page read with GET (and HEAD) by these roles."""
    return Door({"GET": roles}, record)


def form(roles: frozenset[str], record: Record | None = None) -> Door:
    """A page with a form: read with GET and sent with POST by the same roles."""
    return Door({"GET": roles, "POST": roles}, record)


def act(roles: frozenset[str], record: Record | None = None) -> Door:
    """An action: POST only."""
    return Door({"POST": roles}, record)


PUBLIC = Door(public=True)

DOORS: dict[str, Door] = {
    # Signing in and out, and a person's own settings.
    "accounts:login": PUBLIC,
    "accounts:logout": Door(public=True, to_sign_in=True),
    "accounts:second_factor": form(EVERYONE),
    # Going on or off shift is for the desk's staff; an adviser's POST is refused.
    "accounts:shift": Door({"GET": EVERYONE, "POST": STAFF}),
    "accounts:password_change": form(EVERYONE),
    # A person's own account: the adviser's home until Spaces arrive (issue 19).
    "accounts:home": page(EVERYONE),
    # A forgotten password: open to anyone, limited per address and client, audited.
    "accounts:password_reset": PUBLIC,
    "accounts:password_reset_sent": PUBLIC,
    "accounts:password_reset_confirm": PUBLIC,
    "accounts:password_reset_complete": PUBLIC,
    # Single sign-on: off to the provider and back (404 while it is not configured); the
    # administrator's mapping of the provider's groups.
    "sso:login": PUBLIC,
    "sso:callback": PUBLIC,
    "sso:administration": form(ADMINS),
    "audit:log": page(LEADS),
    # Administration: users, teams, areas and the force's settings.
    "administration:index": page(ADMINS),
    "administration:users": page(ADMINS),
    "administration:invite": form(ADMINS),
    "administration:import": form(ADMINS),
    "administration:user": form(ADMINS, USER),
    "administration:reset_second_factor": act(ADMINS, USER),
    "administration:set_enabled": act(ADMINS, USER),
    "administration:reinvite": act(ADMINS, USER),
    "administration:accept": PUBLIC,  # the one-time token in the link is its key
    "administration:teams": page(ADMINS),
    "administration:team_new": form(ADMINS),
    "administration:team": form(ADMINS, TEAM),
    "administration:areas": page(ADMINS),
    "administration:area_new": form(ADMINS),
    "administration:area": form(ADMINS, AREA),
    "administration:force": form(ADMINS),
    # Triage.
    "triage:alerts": page(STAFF),
    "triage:acknowledge": act(STAFF, ALERT),
    "triage:correct": act(DESK_ROLES, MESSAGE),
    "triage:rules": page(FORCE_WIDE),
    "triage:rule_new": form(LEADS),
    "triage:rule_edit": form(LEADS, ROUTING_RULE),
    # Channels.
    "networks:health": page(FORCE_WIDE),
    "networks:dead_letters": page(LEADS),
    "networks:retry": act(LEADS, DEAD_LETTER),
    "networks:retry_watch_item": act(LEADS, UNREADABLE),
    "networks:credentials": form(ADMINS, ACCOUNT),
    # Publishing.
    "publishing:reply": act(WRITERS, MESSAGE),
    "publishing:approve": act(LEADS, POST),
    "publishing:retry": act(WRITERS, POST),
    "publishing:compose": form(WRITERS),
    "publishing:calendar": page(WRITERS),
    "publishing:month": page(WRITERS),
    "publishing:stop": act(LEADS),
    "publishing:post": page(WRITERS, POST),
    "publishing:act": act(WRITERS, POST),
    "publishing:approvals": page(LEADS),
    "publishing:rules": Door({"GET": WRITERS, "POST": LEADS}),
    "publishing:appeals": form(WRITERS),
    # Cases.
    "cases:index": page(STAFF),
    "cases:create": act(WRITERS),
    "cases:detail": page(STAFF, CASE),
    "cases:update": act(WRITERS, CASE),
    # Monitoring.
    "monitoring:index": page(STAFF),
    "monitoring:operation_new": form(LEADS),
    "monitoring:operation": page(STAFF, OPERATION),
    "monitoring:operation_edit": form(LEADS, OPERATION),
    "monitoring:operation_delete": act(LEADS, OPERATION),
    "monitoring:watch_new": form(WRITERS, OPERATION),
    "monitoring:approvals": page(LEADS),
    "monitoring:watch": page(STAFF, WATCH),
    # A watch's owner may stop it; approving and refusing are for supervisors.
    "monitoring:decide": act(WRITERS, WATCH),
    "monitoring:hold": act(WRITERS, WATCH),
    # Stories and rumours.
    "stories:register": page(FORCE_WIDE),
    "stories:story": page(FORCE_WIDE, STORY),
    "stories:promote": act(DESK_ROLES, STORY),
    "stories:rumour": form(FORCE_WIDE, RUMOUR),
    "stories:rumour_update": act(DESK_ROLES, RUMOUR),
    "stories:board": page(FORCE_WIDE, OPERATION),
    "stories:board_live": page(FORCE_WIDE, OPERATION),
    "stories:spike_bar": page(FORCE_WIDE),
    # Live events.
    "live:index": page(LIVE_READERS),
    "live:new": form(DESK_ROLES),
    "live:detail": page(LIVE_READERS, LIVE_EVENT),
    "live:approvals": page(DESK_ROLES, LIVE_EVENT),
    "live:decide": act(DESK_ROLES, LIVE_EVENT),
    "live:waiting": page(DESK_ROLES, LIVE_EVENT),
    "live:edit": act(DESK_ROLES, LIVE_ENTRY),
    "live:token": act(DESK_ROLES, LIVE_EVENT),
    "live:upload": act(DESK_ROLES, LIVE_EVENT),
    "live:intake": PUBLIC,  # the command-and-control token is its key
    # The inbox.
    "inbox:index": page(STAFF),
    "inbox:rows": page(STAFF),
    "inbox:message": page(STAFF, MESSAGE),
    "inbox:work": act(WRITERS, MESSAGE),
    "inbox:bulk": act(WRITERS),
    "inbox:bulk_undo": act(WRITERS, BULK),
    "inbox:handover": form(STAFF),
    "inbox:targets": form(LEADS),
    # Public: each checks its own secret, limit, honeypot or token.
    "public:page": PUBLIC,
    "public:feed": PUBLIC,
    "public:widget": PUBLIC,
    "contact": PUBLIC,
    "intake_api": PUBLIC,
    "webhook": PUBLIC,
    "healthz": PUBLIC,
    "favicon": PUBLIC,
    # Prometheus: by address (BEATDESK_METRICS_ALLOW) or bearer token, not by role; no
    # personal data, only counts.
    "metrics": PUBLIC,
}


# The main navigation, in order: (URL name, label). Each link shows only to the roles its
# door above lets GET it, so the navigation and the doors cannot disagree.
NAVIGATION: tuple[tuple[str, str], ...] = (
    ("inbox:index", "Inbox"),
    ("cases:index", "Cases"),
    ("publishing:calendar", "Publishing"),
    ("live:index", "Live"),
    ("stories:register", "Rumours"),
    ("inbox:handover", "Hand-over"),
    ("monitoring:index", "Monitoring"),
    ("triage:rules", "Routing"),
    ("networks:health", "Channels"),
    ("audit:log", "Audit log"),
    ("administration:index", "Administration"),
)


def may_open(role: str, name: str) -> bool:
    """Whether this role may GET the page named `name` (an unknown name: no)."""
    door = DOORS.get(name)
    return door is not None and door.allows("GET", role)


def navigation(role: str) -> list[tuple[str, str]]:
    """The main navigation for one role: the links whose door lets it in. A role that may
    open none of them (the adviser) gets her own account's home."""
    links = [(name, label) for name, label in NAVIGATION if may_open(role, name)]
    return links or [("accounts:home", "Your account")]
