"""The audit page: each force's supervisors and administrators read their own force's events
only, and every reading of the log is itself an audit event; the force stays outside the
hash, so the chain still verifies."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from beatdesk.accounts.models import Force, Role, User
from beatdesk.audit import chain
from beatdesk.audit.actions import Category, record, record_system
from beatdesk.audit.models import AuditEvent
from beatdesk.testing.fixtures import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_admin(db: None) -> User:
    eastholm = Force.objects.create(name="Eastholm Police", slug="eastholm")
    admin = User.objects.create_user(
        username="eh.admin", password="x" * 16, force=eastholm, role=Role.ADMINISTRATOR
    )
    TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=True)
    return admin


def test_an_administrator_reads_only_their_own_forces_events(users, other_admin):
    admin = users["admin"]
    with transaction.atomic():
        ours = record(users["dana.desk"], Category.CONSULTATION, "ours.viewed")
        theirs = record(other_admin, Category.CONSULTATION, "theirs.viewed")
        system_theirs = record_system(
            "test", Category.ALTERATION, "theirs.changed", other_admin.force
        )
    assert ours.force_id == admin.force_id
    assert theirs.force_id == system_theirs.force_id == other_admin.force_id

    body = signed_in(admin).get("/audit/").content.decode()
    assert "ours.viewed" in body
    assert "theirs.viewed" not in body and "theirs.changed" not in body

    body = signed_in(other_admin).get("/audit/").content.decode()
    assert "theirs.viewed" in body and "theirs.changed" in body
    assert "ours.viewed" not in body


def test_reading_the_log_is_audited_and_the_chain_still_verifies(users):
    supervisor = users["sgt.hughes"]
    assert signed_in(supervisor).get("/audit/", {"category": "consultation"}).status_code == 200
    reading = AuditEvent.objects.get(action="audit.viewed")
    assert reading.actor == supervisor and reading.force_id == supervisor.force_id
    assert reading.category == Category.CONSULTATION
    assert reading.justification == "audit log page 1, category consultation"
    chain.seal()
    assert chain.verify_chain().ok


def test_a_role_that_may_not_read_the_log_is_refused_and_that_is_on_record(client_for):
    assert client_for("alex.analyst").get("/audit/").status_code == 403
    assert AuditEvent.objects.filter(
        action="access.refused", object_type="audit.auditevent"
    ).exists()
    assert not AuditEvent.objects.filter(action="audit.viewed").exists()
