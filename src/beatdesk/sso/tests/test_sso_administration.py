"""/administration/sso/: administrators map the provider's groups to roles and teams and
choose whether a first sign-in creates an account; every change audited. And what a
person's groups give: the strongest mapped role, every mapped team."""

from __future__ import annotations

import pytest

from beatdesk.accounts.models import Force, Role, Team
from beatdesk.audit.models import AuditEvent
from beatdesk.sso.actions import Refused, check_sign_in, grant_for
from beatdesk.sso.models import GroupMapping, SsoIdentity, SsoPolicy

pytestmark = pytest.mark.django_db
PAGE = "/administration/sso/"


def test_only_administrators_open_the_page(client_for):
    assert client_for("admin").get(PAGE).status_code == 200
    for name in ("dana.desk", "sgt.hughes", "pcso.patel", "alex.analyst", "ruth.iag"):
        assert client_for(name).get(PAGE).status_code == 403
        assert (
            client_for(name).post(PAGE, {"action": "policy", "create_accounts": "1"}).status_code
            == 403
        )
    assert not SsoPolicy.objects.filter(create_accounts=True).exists()


def test_the_administrator_maps_groups_and_every_change_is_audited(client_for, force):
    admin = client_for("admin")
    team = Team.objects.filter(force=force).first()
    added = admin.post(
        PAGE, {"action": "add", "group": "0f1e-desk", "role": "desk_operator", "team": str(team.pk)}
    )
    assert added.status_code == 302
    mapping = GroupMapping.objects.get(group="0f1e-desk")
    assert (mapping.role, mapping.team, mapping.force) == ("desk_operator", team, force)
    page = admin.get(PAGE)
    assert b"0f1e-desk" in page.content and b"/sso/callback/" in page.content

    assert admin.post(PAGE, {"action": "policy", "create_accounts": "1"}).status_code == 302
    assert SsoPolicy.objects.get(force=force).create_accounts
    assert admin.post(PAGE, {"action": "remove", "mapping": str(mapping.pk)}).status_code == 302
    assert not GroupMapping.objects.exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"sso.mapping_added", "sso.create_accounts_on", "sso.mapping_removed"} <= actions


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"action": "add", "group": "", "role": "supervisor"}, b"Give the group"),
        ({"action": "add", "group": "g", "role": "constable"}, b"not a role"),
        ({"action": "add", "group": "g", "team": "987654"}, b"not a team of your force"),
        ({"action": "add", "group": "g"}, b"a role, a team, or both"),
        ({"action": "remove", "mapping": "x"}, b"Say which mapping"),
        ({}, b"Nothing to do"),
    ],
)
def test_bad_input_is_a_400_with_a_reason_and_changes_nothing(client_for, form, reason):
    answer = client_for("admin").post(PAGE, form)
    assert answer.status_code == 400 and reason in answer.content
    assert not GroupMapping.objects.exists()


def test_a_mapping_of_another_force_is_not_found(client_for):
    other = Force.objects.create(name="Eastholm", slug="eastholm")
    theirs = GroupMapping.objects.create(force=other, group="g", role="administrator")
    answer = client_for("admin").post(PAGE, {"action": "remove", "mapping": str(theirs.pk)})
    assert answer.status_code == 404
    assert GroupMapping.objects.filter(pk=theirs.pk).exists()


def test_the_strongest_role_and_every_team(force):
    teams = list(Team.objects.filter(force=force)[:2])
    GroupMapping.objects.create(force=force, group="a", role=Role.OFFICER, team=teams[0])
    GroupMapping.objects.create(force=force, group="b", role=Role.SUPERVISOR)
    GroupMapping.objects.create(force=force, group="c", team=teams[1])
    grant = grant_for(force, ["a", "b", "c", "unmapped"])
    assert grant is not None
    assert grant.role == Role.SUPERVISOR and set(grant.teams) == set(teams)
    assert grant_for(force, ["c"]) is None  # a team alone gives no role


def test_a_disabled_account_on_the_desk_is_refused_even_when_the_provider_vouches(users, force):
    GroupMapping.objects.create(force=force, group="a", role=Role.OFFICER)
    dana = users["dana.desk"]
    SsoIdentity.objects.create(user=dana, issuer="https://idp", subject="s-1")
    dana.is_active = False
    dana.save()
    with pytest.raises(Refused, match="disabled"):
        check_sign_in({"sub": "s-1", "groups": ["a"]}, "https://idp")
    assert AuditEvent.objects.filter(action="login.sso_refused").exists()


def test_the_login_page_is_as_before_without_single_sign_on(client):
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b"sso-sign-in" not in page.content
    assert client.get("/sso/login/").status_code == 404
    assert client.get("/sso/callback/").status_code == 404


def test_entra_group_overage_is_refused_with_its_reason(users, force):
    GroupMapping.objects.create(force=force, group="a", role=Role.OFFICER)
    SsoIdentity.objects.create(user=users["dana.desk"], issuer="https://idp", subject="s-2")
    overage = {"sub": "s-2", "_claim_names": {"groups": "src1"}, "_claim_sources": {"src1": {}}}
    with pytest.raises(Refused, match="too many groups"):
        check_sign_in(overage, "https://idp")
