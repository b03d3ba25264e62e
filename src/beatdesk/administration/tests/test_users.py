"""Administration of users: invitations by a one-time link, role and teams, the second
factor reset, disabling with sessions ended at once, CSV import; administrators only, each
change audited, another force's user a 404."""

from __future__ import annotations

import datetime as dt
import re
import socket
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from beatdesk.accounts.models import Force, Role, Team, User
from beatdesk.administration.models import Invitation
from beatdesk.audit.models import AuditEvent
from beatdesk.testing.fixtures import signed_in

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-passphrase-for-the-desk"


def events(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


@pytest.fixture
def admin(users: dict[str, User]) -> Client:
    return signed_in(users["admin"])


@pytest.fixture
def other_force_user(force: Force) -> User:
    other = Force.objects.create(name="Eastholm Police", slug="eastholm")
    return User.objects.create(username="eh.someone", force=other, role=Role.OFFICER)


def invite(client: Client, capture: Any, **over: Any) -> Any:
    data = {
        "email": "new.person@westmere-police.example",
        "username": "new.person",
        "role": Role.DESK_OPERATOR,
        **over,
    }
    with capture(execute=True):
        return client.post("/administration/users/invite/", data)


def link_in(message: Any) -> str:
    found = re.search(r"https?://testserver(/administration/invitation/\S+/)", message.body)
    assert found, message.body
    return found.group(1)


def test_an_invitation_mails_a_link_that_sets_the_password_once_then_enrols_totp(
    admin: Client, force: Force, django_capture_on_commit_callbacks: Any
) -> None:
    team = Team.objects.filter(force=force).first()
    assert team is not None
    response = invite(admin, django_capture_on_commit_callbacks, teams=[team.pk])
    assert response.status_code == 302
    person = User.objects.get(username="new.person")
    assert person.role == Role.DESK_OPERATOR and list(person.teams.all()) == [team]
    assert not person.has_usable_password()
    assert events("user.invited") == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [person.email]
    link = link_in(mail.outbox[0])
    assert "72 hours" in mail.outbox[0].body

    listed = admin.get("/administration/users/")
    assert b"new.person" in listed.content and b"invited" in listed.content

    guest = Client()
    assert guest.get(link).status_code == 200
    answer = guest.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert answer.status_code == 302 and answer["Location"] == "/accounts/two-factor/"
    person.refresh_from_db()
    assert person.check_password(PASSWORD)
    assert events("invitation.accepted") == 1
    enrol = guest.get("/accounts/two-factor/")
    assert b"Set up your authenticator" in enrol.content and b"data:image/svg+xml" in enrol.content
    # The link works once.
    assert Client().get(link).status_code == 400
    assert events("invitation.link_refused") == 1


def test_an_invitation_expires_after_72_hours(
    admin: Client, django_capture_on_commit_callbacks: Any
) -> None:
    invite(admin, django_capture_on_commit_callbacks)
    link = link_in(mail.outbox[0])
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert Client().get(link).status_code == 400


def test_a_disabled_invitees_link_stops_working(
    admin: Client, django_capture_on_commit_callbacks: Any
) -> None:
    invite(admin, django_capture_on_commit_callbacks)
    link = link_in(mail.outbox[0])
    person = User.objects.get(username="new.person")
    admin.post(f"/administration/users/{person.pk}/enabled/", {"enabled": "0"})
    answer = Client().post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert answer.status_code == 400
    person.refresh_from_db()
    assert not person.has_usable_password()


def test_a_refused_mail_is_said_and_a_new_invitation_can_be_sent(
    admin: Client, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # A real SMTP connection to a port where nothing listens.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed, 2
    answer = invite(admin, django_capture_on_commit_callbacks)
    assert answer.status_code == 302
    assert "refused" in admin.get(answer["Location"]).content.decode()
    person = User.objects.get(username="new.person")
    assert events("invitation.mail_failed") == 1
    assert b"invitation not mailed" in admin.get("/administration/users/").content
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        again = admin.post(f"/administration/users/{person.pk}/reinvite/")
    assert again.status_code == 302 and len(mail.outbox) == 1
    assert Invitation.objects.filter(user=person).count() == 1
    assert b"invitation not mailed" not in admin.get("/administration/users/").content


def test_bad_invitations_are_named_and_write_nothing(
    admin: Client, django_capture_on_commit_callbacks: Any
) -> None:
    taken = invite(admin, django_capture_on_commit_callbacks, username="dana.desk")
    assert taken.status_code == 400 and b"is taken" in taken.content
    bad = invite(admin, django_capture_on_commit_callbacks, email="nobody", role="adviser")
    assert bad.status_code == 400
    assert User.objects.filter(username="new.person").count() == 0
    assert not mail.outbox and events("user.invited") == 0


def test_other_roles_are_refused_and_audited(users: dict[str, User]) -> None:
    supervisor = signed_in(users["sgt.hughes"])
    officer = users["pcso.patel"]
    before = events("access.refused")
    for path in ("/administration/", "/administration/users/", "/administration/force/"):
        assert supervisor.get(path).status_code == 403
    assert supervisor.post(f"/administration/users/{officer.pk}/enabled/").status_code == 403
    assert events("access.refused") == before + 4
    officer.refresh_from_db()
    assert officer.is_active


def test_another_forces_user_is_a_404(admin: Client, other_force_user: User) -> None:
    pk = other_force_user.pk
    assert admin.get(f"/administration/users/{pk}/").status_code == 404
    assert admin.post(f"/administration/users/{pk}/enabled/", {"enabled": "0"}).status_code == 404
    other_force_user.refresh_from_db()
    assert other_force_user.is_active


def test_role_and_teams_are_set_and_audited(
    admin: Client, users: dict[str, User], force: Force
) -> None:
    officer = users["pcso.patel"]
    teams = list(Team.objects.filter(force=force)[:2])
    data = {"role": Role.SUPERVISOR, "teams": [t.pk for t in teams]}
    assert admin.post(f"/administration/users/{officer.pk}/", data).status_code == 302
    officer.refresh_from_db()
    assert officer.role == Role.SUPERVISOR and set(officer.teams.all()) == set(teams)
    assert events("user.role_set") == 1
    # An administrator cannot demote themselves (the force would lose its administrator).
    me = users["admin"]
    mine = admin.post(f"/administration/users/{me.pk}/", {"role": Role.OFFICER})
    assert mine.status_code == 400 and b"your own administrator role" in mine.content


def test_disabling_ends_the_users_sessions_at_once(admin: Client, users: dict[str, User]) -> None:
    officer = users["pcso.patel"]
    theirs = signed_in(officer)
    assert theirs.get("/").status_code == 200
    assert Session.objects.count() == 2
    answer = admin.post(f"/administration/users/{officer.pk}/enabled/", {"enabled": "0"})
    assert answer.status_code == 302
    officer.refresh_from_db()
    assert not officer.is_active and events("user.disabled") == 1
    assert Session.objects.count() == 1  # only the administrator's
    assert theirs.get("/").status_code == 302
    again = admin.post(f"/administration/users/{officer.pk}/enabled/", {"enabled": "1"})
    assert again.status_code == 302
    officer.refresh_from_db()
    assert officer.is_active and events("user.enabled") == 1


def test_resetting_the_second_factor_removes_the_device(
    admin: Client, users: dict[str, User]
) -> None:
    desk = users["dana.desk"]
    assert TOTPDevice.objects.filter(user=desk).exists()
    answer = admin.post(f"/administration/users/{desk.pk}/second-factor/")
    assert answer.status_code == 302
    assert not TOTPDevice.objects.filter(user=desk).exists()
    assert events("user.second_factor_reset") == 1


CSV = """username,email,role,team
jo.smith,jo.smith@westmere-police.example,desk_operator,{team}
sam.jones,sam.jones@westmere-police.example,officer,
"""


def test_csv_import_previews_then_invites_everyone(
    admin: Client, force: Force, django_capture_on_commit_callbacks: Any
) -> None:
    team = Team.objects.filter(force=force).first()
    assert team is not None
    text = CSV.format(team=team.slug)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("staff.csv", text.encode())
    preview = admin.post("/administration/users/import/", {"file": upload})
    assert preview.status_code == 200 and b"Invite these 2 people" in preview.content
    assert not User.objects.filter(username="jo.smith").exists()
    with django_capture_on_commit_callbacks(execute=True):
        done = admin.post("/administration/users/import/", {"rows": text, "commit": "1"})
    assert done.status_code == 302
    jo = User.objects.get(username="jo.smith")
    assert jo.role == Role.DESK_OPERATOR and list(jo.teams.all()) == [team]
    assert len(mail.outbox) == 2 and events("user.invited") == 2


def test_csv_import_names_each_bad_line_and_invites_no_one(admin: Client) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = (
        "ok.person,ok@westmere-police.example,officer,\n"
        "bad person,not-an-email,chief,Nowhere\n"
        "dana.desk,x@westmere-police.example,officer\n"
        "too,few\n"
    )
    answer = admin.post(
        "/administration/users/import/", {"file": SimpleUploadedFile("s.csv", text.encode())}
    )
    body = answer.content.decode()
    assert answer.status_code == 400
    for said in ("not an email address", "role &#x27;chief&#x27;", "no team", "is taken"):
        assert said in body, said
    assert "expected username,email,role,team" in body
    committed = admin.post("/administration/users/import/", {"rows": text, "commit": "1"})
    assert committed.status_code == 400 and b"line 2" in committed.content
    assert not User.objects.filter(username="ok.person").exists()
