"""Single sign-on against a real OpenID provider: django-oidc-provider in its own process
on loopback (beatdesk.testing.idp), and `beatdesk serve` in another, driven by a real HTTP
client that follows every redirect between the two, as a browser does.

- a person in a mapped group signs in and gets the mapped role and team;
- the provider's MFA (amr "mfa") is accepted; without it the desk asks for its own TOTP;
- a person in no mapped group, or with no account while accounts are not created, is refused;
  once the administrator turns account creation on, the first sign-in creates the account;
- a person disabled at the provider loses their session at the next renewal and is refused
  at the next sign-in.
Every decision is in the audit log.
"""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from beatdesk.testing.idp.process import Provider, identity_provider
from beatdesk.testing.processes import Installation, installation
from beatdesk.testing.services import _accepts, _wait_until, free_port

pytestmark = [pytest.mark.slow]
CLIENT_ID = "beatdesk-desk"
SECRET = "loopback-client-secret-0123456789"
RECHECK_SECONDS = 3
# Amy, Bob and Dave have accounts on the desk already (made by the administrator, as
# officers); Eve has none.
USERS = [
    # In the desk operators' group; the provider checked a second factor.
    {"username": "amy", "password": "amy-pass-1", "email": "amy@force.example",
     "groups": ["grp-desk-operators"], "mfa": True},
    # Linked by email (in another case), becomes a supervisor of the neighbourhood team;
    # signs in at the provider with a password only.
    {"username": "bob", "password": "bob-pass-1", "email": "Bob@Force.example",
     "groups": ["grp-supervisors", "grp-neighbourhood", "grp-unrelated"]},
    # Only in groups the desk does not map.
    {"username": "carl", "password": "carl-pass-1", "email": "carl@force.example",
     "groups": ["grp-canteen"]},
    {"username": "dave", "password": "dave-pass-1", "email": "dave@force.example",
     "groups": ["grp-desk-operators"], "mfa": True},
    # Mapped, with no account on the desk.
    {"username": "eve", "password": "eve-pass-1", "email": "eve@force.example",
     "groups": ["grp-desk-operators"], "mfa": True},
]  # fmt: skip

SEED = """
from beatdesk.accounts.models import Force, Team, User
from beatdesk.sso.models import GroupMapping
force = Force.objects.create(name="Westmere Police", slug="westmere")
desk = Team.objects.create(force=force, name="Digital desk", slug="desk", kind="digital_desk")
hood = Team.objects.create(force=force, name="Dudley Road", slug="dudley", kind="neighbourhood")
GroupMapping.objects.create(
    force=force, group="grp-desk-operators", role="desk_operator", team=desk
)
GroupMapping.objects.create(force=force, group="grp-supervisors", role="supervisor")
GroupMapping.objects.create(force=force, group="grp-neighbourhood", team=hood)
for name in ("amy", "bob", "dave"):
    User.objects.create_user(
        f"{name}.local", email=f"{name}@force.example", force=force, password="local-pass-123"
    )
"""
READ = """
import json
from beatdesk.accounts.models import User
from beatdesk.audit.models import AuditEvent
users = {u.email.lower(): {"role": u.role, "teams": sorted(t.name for t in u.teams.all()),
         "username": u.username, "password": u.has_usable_password()}
         for u in User.objects.all()}
events = sorted({e.action for e in AuditEvent.objects.all()})
print(json.dumps({"users": users, "events": events}))
"""


def _read(inst: Installation) -> dict[str, Any]:
    out = inst.run("shell", "-c", READ).stdout.strip().splitlines()[-1]
    data: dict[str, Any] = json.loads(out)
    return data


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[str, Installation, Provider]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    client = {"id": CLIENT_ID, "secret": SECRET, "redirect_uri": f"{base}/sso/callback/"}
    secret_file = tmp_path / "oidc-secret"
    secret_file.write_text(SECRET + "\n")
    with (
        identity_provider(tmp_path / "idp", client, USERS) as provider,
        installation(tmp_path / "desk") as inst,
    ):
        inst.env.update(
            BEATDESK_OIDC_ISSUER=provider.issuer,
            BEATDESK_OIDC_CLIENT_ID=CLIENT_ID,
            BEATDESK_OIDC_CLIENT_SECRET_FILE=str(secret_file),
            BEATDESK_OIDC_NAME="Westmere account",
            BEATDESK_OIDC_RECHECK_SECONDS=str(RECHECK_SECONDS),
        )
        inst.migrate()
        inst.run("shell", "-c", SEED)
        server = inst.start("serve", "--port", str(port))
        try:
            _wait_until(lambda: _accepts(port) or server.poll() is not None, "beatdesk serve", 60)
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            yield base, inst, provider
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=20)
            except Exception:
                server.kill()


def _browser() -> httpx.Client:
    return httpx.Client(follow_redirects=True, timeout=30)


def sign_in(base: str, username: str, password: str) -> tuple[httpx.Client, httpx.Response]:
    """Click "Sign in with …" on the desk's sign-in page, then sign in at the provider."""
    browser = _browser()
    page = browser.get(f"{base}/accounts/login/")
    assert "Sign in with Westmere account" in page.text
    at_provider = browser.get(f"{base}/sso/login/")
    assert "Loopback identity provider" in at_provider.text, at_provider.text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', at_provider.text)
    nxt = re.search(r'name="next" value="([^"]*)"', at_provider.text)
    assert token and nxt
    answer = browser.post(
        str(at_provider.url),
        data={
            "csrfmiddlewaretoken": token.group(1),
            "username": username,
            "password": password,
            "next": nxt.group(1).replace("&amp;", "&"),
        },
    )
    return browser, answer


def _path(response: httpx.Response) -> str:
    return response.url.path


def test_sign_in_through_the_provider(desk: tuple[str, Installation, Provider]) -> None:
    base, inst, provider = desk

    # The provider's MFA is accepted: straight to the inbox, with the mapped role and team.
    amy, landed = sign_in(base, "amy", "amy-pass-1")
    assert landed.status_code == 200 and _path(landed) == "/", re.findall(
        r'class="flash"[^<]*', landed.text
    )
    assert amy.get(f"{base}/").status_code == 200

    # A password alone at the provider: the desk asks for its own TOTP, and nothing opens.
    bob, landed = sign_in(base, "bob", "bob-pass-1")
    assert _path(landed) == "/accounts/two-factor/"
    assert _path(bob.get(f"{base}/")) == "/accounts/two-factor/"

    # In no mapped group: refused, and told why.
    _, landed = sign_in(base, "carl", "carl-pass-1")
    assert _path(landed) == "/accounts/login/"
    assert "None of your groups at the identity provider gives a role" in landed.text

    # No account, and the administrator has not turned account creation on: refused.
    _, landed = sign_in(base, "eve", "eve-pass-1")
    assert _path(landed) == "/accounts/login/"
    assert "You have no account on the desk" in landed.text
    inst.run(
        "shell",
        "-c",
        "from beatdesk.sso.models import SsoPolicy; from beatdesk.accounts.models import Force;"
        "SsoPolicy.objects.update_or_create(force=Force.objects.get(), "
        "defaults={'create_accounts': True})",
    )
    _, landed = sign_in(base, "eve", "eve-pass-1")
    assert _path(landed) == "/", landed.text[:500]

    # Disabled at the provider: the session ends at the next renewal, and signing in again
    # is refused by the provider.
    dave, landed = sign_in(base, "dave", "dave-pass-1")
    assert _path(landed) == "/"
    provider.disable("dave")
    time.sleep(RECHECK_SECONDS + 0.5)
    renewed = dave.get(f"{base}/")
    assert _path(renewed) == "/accounts/login/", renewed.url
    assert "The identity provider did not sign you in (login_required)" in renewed.text
    assert _path(dave.get(f"{base}/")) == "/accounts/login/"
    _, again = sign_in(base, "dave", "dave-pass-1")
    assert again.url.port != int(base.rsplit(":", 1)[1])  # still at the provider
    assert "Sign-in refused" in again.text

    state = _read(inst)
    users = state["users"]
    assert users["amy@force.example"]["role"] == "desk_operator"
    assert users["amy@force.example"]["teams"] == ["Digital desk"]
    # Bob's existing account, linked by email: its role and teams now follow his groups.
    assert users["bob@force.example"] == {
        "role": "supervisor",
        "teams": ["Dudley Road"],
        "username": "bob.local",
        "password": False,  # from now on through the provider only
    }
    assert "carl@force.example" not in users
    assert users["eve@force.example"]["role"] == "desk_operator"
    for action in (
        "login.sso",
        "login.sso_granted",
        "login.sso_refused",
        "login.second_factor_provider",
        "sso.account_created",
        "sso.role_changed",
        "sso.password_retired",
    ):
        assert action in state["events"], action
