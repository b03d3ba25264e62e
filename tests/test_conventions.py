"""The conventions the code keeps, read from its source with `ast` (no database):

1. Every model write (.save(), .delete(), .create(), .bulk_create(), .bulk_update(),
   .get_or_create(), .update_or_create(), a queryset's .update(), and core.sql's raw
   insert/update helpers) sits in an actions.py (or a migration), apart from the short,
   explained list below.
2. No view reads a police-data model itself: views (views*.py, feeds, template tags) never
   touch such a model's manager; they read through their part's queries.
3. In every queries.py, a function that reads a police-data model's manager is a door
   (access_* or visible_*) or calls one, apart from the short, explained list below.

"Police data" is every model of the desk's apps except the configuration and bookkeeping
models named in NOT_POLICE_DATA, so a new model is police data until someone says otherwise.

What the detector does not see: writes through a related manager's add/remove/set/clear
(m2m), raw SQL outside core/sql.py, and a dict's update() called with keywords on a name it
cannot tell is a dict (none today: such a call would fail rule 1 and be rewritten).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps

SRC = Path(__file__).resolve().parents[1] / "src" / "beatdesk"

# -- what counts as police data -----------------------------------------------------------------

NOT_POLICE_DATA = {
    # The force's own set-up: who works there, where, which accounts, which rules.
    "Force": "the force's settings",
    "Area": "the force's geography",
    "Team": "the force's teams",
    "User": "staff accounts",
    "UserSession": "sign-in bookkeeping",
    "Invitation": "a staff account's one-time first sign-in link",
    "NetworkAccount": "the force's own accounts",
    "ChannelHealth": "whether a channel answers",
    "ResponseTarget": "minutes per grade",
    "ApprovalRule": "who approves which post",
    "ReplyTemplate": "agreed wording",
    "RoutingRule": "where messages go",
    "ReferenceCounter": "the next case number",
    "SsoPolicy": "whether single sign-on creates accounts",
    "GroupMapping": "which provider group gives which role and team",
    "SsoIdentity": "which provider subject is which staff account",
    "ProviderSecondFactor": "the provider's second factor, as a sign-in device",
    # The machinery's own rows.
    "WorkerBeat": "worker heartbeats",
    "SchedulerLease": "the scheduler's lease",
    "PeriodicRun": "the scheduler's job runs",
    # Counts without content.
    "VolumeBucket": "counts of posts per quarter hour",
    "FollowerSnapshot": "an account's follower count",
    "ReachSnapshot": "a published post's counts",
}


def police_models() -> set[str]:
    names = {
        m.__name__ for m in apps.get_models() if m.__module__.startswith("beatdesk.")
    }  # fmt: skip
    return names - set(NOT_POLICE_DATA)


# -- 1. writes outside actions.py ---------------------------------------------------------------

# (path under src/beatdesk, function) -> why it writes outside an actions.py. "*" is the whole
# module. Keep it short: move a write to its part's actions.py rather than add a line here.
WRITES_ALLOWED = {
    # The machinery, not police data.
    ("audit/chain.py", "append_many"): "the audit log's own writer (record() calls it)",
    ("core/sql.py", "insert_returning"): "the bulk-SQL helper itself; its callers are actions",
    ("operations/scheduler.py", "*"): "the scheduler's job runs and lease",
    ("operations/sweep.py", "*"): "worker heartbeats and the task queue's own rows",
    ("accounts/signals.py", "*"): "Django's sign-in/out signals keep the session list",
    ("accounts/lockout.py", "LockoutHandler.reset_user_attempts"): "django-axes' counters",
    ("accounts/tasks.py", "send_password_reset"): "PasswordResetForm.save() sends the mail",
    # Tasks: the workers and the scheduler, on the ingestion and sending paths.
    ("publishing/tasks.py", "*"): "the send task marks a refused send failed; due sends queued",
    ("publishing/sender.py", "do_send"): "the worker's send: its claim and its outcome",
    ("publishing/delivery.py", "_resend"): "recovering a send a worker died in",
    ("publishing/delivery.py", "_found"): "recovering a send a worker died in",
    ("publishing/delivery.py", "_to_check"): "recovering a send a worker died in",
    ("monitoring/collect.py", "*"): "the watch collector: stores what it collected, raw first",
    ("stories/ingest.py", "*"): "clustering on ingestion, and the member-deleted signal",
    ("stories/spikes.py", "*"): "spike detection and alerts, in the collector's worker",
    ("live/reach.py", "take_snapshots"): "the scheduler's reach snapshots",
    # Actions kept beside inbox/actions.py (the ingestion path), which would pass 600 lines.
    ("inbox/work.py", "*"): "the desk's work on a message and the scheduler's (escalate, wake)",
    ("inbox/bulk.py", "*"): "bulk changes to messages, with undo",
    # Demo data and test support.
    ("demo/seed.py", "*"): "the demo force",
    ("monitoring/demo.py", "*"): "the demo operation",
    ("networks/replay/command.py", "replay_account"): "the replay command's own account",
    ("testing/fixtures.py", "*"): "test support: a signed-in session",
    ("testing/idp/__main__.py", "*"): "test support: the loopback OpenID provider's own users",
    # Sign-in and connectors' own state.
    ("sso/backend.py", "SsoCallbackView.login_success"): "the provider's second factor, kept "
    "as a django-otp device at sign-in (audited as login.second_factor_provider)",
    ("networks/bluesky/sessions.py", "AccountSessions.save"): "a refreshed Bluesky session "
    "kept in the account's encrypted credentials (audited as account.session_kept)",
}

WRITE_METHODS = {"delete", "create", "bulk_create", "bulk_update", "get_or_create"}
WRITE_METHODS |= {"update_or_create"}
SQL_WRITERS = {"insert_many", "insert_new", "insert_returning", "update_many"}


@dataclass(frozen=True)
class Found:
    path: str
    function: str
    line: int
    code: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} in {self.function}: {self.code}"


def _dict_names(node: ast.AST) -> set[str]:
    """Names bound to a dict in this function: their .update(k=v) is no model write."""
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Assign | ast.AnnAssign) and n.value is not None:
            value = n.value
            is_dict = isinstance(value, ast.Dict | ast.DictComp) or (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Name)
                and value.func.id == "dict"
            )
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            names |= {t.id for t in targets if is_dict and isinstance(t, ast.Name)}
    return names


def _is_write(call: ast.Call, dicts: set[str]) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in SQL_WRITERS
    if not isinstance(func, ast.Attribute):
        return False
    receiver = func.value
    if isinstance(receiver, ast.Call) and getattr(receiver.func, "id", "") == "super":
        return False  # a model's own save() calling Django's
    if func.attr in SQL_WRITERS or func.attr in WRITE_METHODS:
        return True
    if func.attr == "save":
        return not call.args  # image.save(buffer), bundle.save(path) are files
    if func.attr == "update":
        # A queryset's update takes field=value; a dict's takes a mapping or **more.
        named = any(k.arg for k in call.keywords)
        dict_like = isinstance(receiver, ast.Subscript) or (
            isinstance(receiver, ast.Name) and receiver.id in dicts
        )
        return named and not call.args and not dict_like
    return False


class _Scan(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.where: list[str] = []
        self.dicts: list[set[str]] = [set()]
        self.writes: list[Found] = []
        self.managers: list[Found] = []  # Model.objects / Model._default_manager

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.where.append(node.name)
        self.dicts.append(self.dicts[-1] | _dict_names(node))
        self.generic_visit(node)
        self.dicts.pop()
        self.where.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.where.append(node.name)
        self.generic_visit(node)
        self.where.pop()

    def _found(self, node: ast.expr) -> Found:
        where = ".".join(self.where) or "<module>"
        return Found(self.path, where, node.lineno, ast.unparse(node)[:90])

    def visit_Call(self, node: ast.Call) -> None:
        if _is_write(node, self.dicts[-1]):
            self.writes.append(self._found(node))
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in ("objects", "_default_manager"):
            self.managers.append(self._found(node))
        self.generic_visit(node)


def _sources() -> Iterator[tuple[str, ast.Module]]:
    for file in sorted(SRC.rglob("*.py")):
        path = file.relative_to(SRC).as_posix()
        if {"migrations", "tests"} & set(path.split("/")):
            continue
        yield path, ast.parse(file.read_text(encoding="utf-8"), filename=str(file))


def _scan(path: str, tree: ast.AST) -> _Scan:
    scan = _Scan(path)
    scan.visit(tree)
    return scan


def _allowed(found: Found) -> bool:
    top = found.function.split(".")[0]
    return any(
        (found.path, name) in WRITES_ALLOWED for name in ("*", found.function, top)
    )  # fmt: skip


def test_model_writes_sit_in_actions() -> None:
    outside = [
        str(w)
        for path, tree in _sources()
        if not path.endswith("/actions.py")
        for w in _scan(path, tree).writes
        if not _allowed(w)
    ]
    assert not outside, (
        "model writes outside an actions.py (move them to the part's actions.py, as a "
        "check_*/do_* that records the audit event):\n" + "\n".join(outside)
    )


def test_every_allowed_write_still_exists() -> None:
    """A line of WRITES_ALLOWED whose write has moved is taken out, so the list stays short."""
    writes = [w for path, tree in _sources() for w in _scan(path, tree).writes]
    stale = [
        key
        for key in WRITES_ALLOWED
        if not any(
            w.path == key[0] and key[1] in ("*", w.function, w.function.split(".")[0])
            for w in writes
        )
    ]
    assert not stale, f"allowed writes that no longer exist: {stale}"


# -- 2. views read through queries --------------------------------------------------------------


def _is_view_module(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.startswith("views") or name == "feeds.py" or "/templatetags/" in path


# Views that read a police-data model themselves, and why that is safe.
VIEW_READS_ALLOWED = {
    ("publishing/feeds.py", "published"): "the public feed: only what the force published",
}


def test_views_read_police_data_only_through_queries() -> None:
    police = police_models()
    direct = [
        str(m)
        for path, tree in _sources()
        if _is_view_module(path)
        for m in _scan(path, tree).managers
        if m.code.rsplit(".", 1)[0].split(".")[-1] in police
        and (m.path, m.function.split(".")[0]) not in VIEW_READS_ALLOWED
    ]
    assert not direct, (
        "views reading a police-data model themselves (read through an access_* or "
        "visible_* function in the part's queries.py):\n" + "\n".join(direct)
    )


# -- 3. queries go through a door ---------------------------------------------------------------

# Functions of a queries.py that read police data without calling an access_*/visible_*
# door, and why. Most read from a record the caller already holds through a door.
QUERIES_WITHOUT_A_DOOR = {
    ("live/queries.py", "event_posts"): "the posts of an event read through access_event",
    ("live/queries.py", "summarise"): "the summary of an event read through access_event",
    ("live/queries.py", "event_of_replies"): "the events of messages already read, same force",
    ("monitoring/queries.py", "consult_operation_posts"): "an operation held; checks and audits",
    ("operations/queries.py", "dead_letter_counts"): "counts per account, no contents",
    ("publishing/queries.py", "versions_of"): "the versions of a group read through access_post",
    ("publishing/queries.py", "our_post_answered"): "our post a message already read answers",
    ("stories/queries.py", "spread_series"): "the spread of a story read through access_story",
    ("stories/queries.py", "board"): "the board of an operation read through access_board",
    ("stories/queries.py", "recent_spikes"): "spike counts of the user's own force",
}


def _calls_a_door(function: ast.AST) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name.startswith(("access_", "visible_")):
                return True
    return False


def test_queries_read_police_data_through_a_door() -> None:
    police = police_models()
    doorless = []
    seen = set()
    for path, tree in _sources():
        if not path.endswith("/queries.py"):
            continue
        for function in tree.body:
            if not isinstance(function, ast.FunctionDef):
                continue
            reads = [
                m
                for m in _scan(path, function).managers
                if m.code.rsplit(".", 1)[0].split(".")[-1] in police
            ]
            if not reads or function.name.startswith(("access_", "visible_")):
                continue
            if _calls_a_door(function):
                continue
            seen.add((path, function.name))
            if (path, function.name) not in QUERIES_WITHOUT_A_DOOR:
                doorless.append(f"{path}: {function.name} reads {reads[0].code}")
    assert not doorless, (
        "queries reading police data without an access_*/visible_* door:\n" + "\n".join(doorless)
    )
    stale = sorted(set(QUERIES_WITHOUT_A_DOOR) - seen)
    assert not stale, f"QUERIES_WITHOUT_A_DOOR names functions that no longer need it: {stale}"


def test_the_detector_sees_what_it_is_meant_to() -> None:
    """The rules catch a write and a direct read, and pass a dict's update and a file save."""
    source = """
def view(request):
    found = Message.objects.filter(pk=1)
    found.update(state="closed")
    Post.objects.create(text="x")
    context = {}
    context.update(a=1)
    image.save(buffer)
    note.save()
"""
    scan = _scan("x/views.py", ast.parse(source))
    assert [w.code.split("(")[0] for w in scan.writes] == [
        "found.update",
        "Post.objects.create",
        "note.save",
    ]
    assert [m.code for m in scan.managers] == ["Message.objects", "Post.objects"]
