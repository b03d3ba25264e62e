"""Fixtures: the demo force with its named users, signed-in clients, and deliveries."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from beatdesk.accounts.models import Force, User
from beatdesk.demo.seed import seed
from beatdesk.inbox.actions import Received, do_receive
from beatdesk.inbox.models import Message
from beatdesk.networks.models import NetworkAccount
from beatdesk.triage.actions import do_triage


@pytest.fixture(autouse=True)
def _audit_dir(settings: Any, tmp_path: Path) -> None:
    # Each test signs its checkpoints with its own key in its own folder.
    settings.AUDIT_DIR = tmp_path / "audit"
    settings.PASSWORD_HASHERS = ["beatdesk.testing.hashers.FastArgon2PasswordHasher"]


@pytest.fixture
def force(db: None) -> Force:
    return seed()


@pytest.fixture
def users(force: Force) -> dict[str, User]:
    """The named demo users: dana.desk (desk operator), pcso.patel (officer, Dudley Road),
    sgt.hughes (supervisor), alex.analyst, admin, ruth.iag (adviser)."""
    return {u.username: u for u in User.objects.filter(force=force)}


def signed_in(user: User) -> Client:
    """A browser session that has passed both password and TOTP."""
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def client_for(users: dict[str, User]) -> Callable[[str], Client]:
    return lambda username: signed_in(users[username])


@pytest.fixture
def account(force: Force) -> Callable[[str], NetworkAccount]:
    def _account(handle: str) -> NetworkAccount:
        return NetworkAccount.objects.get(force=force, handle=handle)

    return _account


@pytest.fixture
def deliver(force: Force) -> Callable[..., Received]:
    """Deliver one recorded post through the ingestion path, as the replay network does."""
    replay = NetworkAccount.objects.get(force=force, kind="replay")

    def _deliver(body: dict[str, Any] | str) -> Received:
        raw = body if isinstance(body, str) else json.dumps(body)
        return do_receive(replay, raw)

    return _deliver


def route(message_id: int | None) -> Message:
    """Run the triage step on one stored message, as the worker would, and return it."""
    assert message_id is not None
    do_triage([message_id])
    return Message.objects.select_related("team", "area", "triage").get(pk=message_id)


# Values that differ on every answer whatever it is about: the CSP nonce, the CSRF tokens
# (masked afresh each time) and the address the person asked for (the shift form's "next").
_PER_ANSWER = re.compile(
    rb'(nonce="|name="csrfmiddlewaretoken" value="|"X-CSRFToken": "|name="next" value=")[^"]*'
)


def page_body(answer: HttpResponse) -> bytes:
    """An answer's body with its per-answer values blanked, to compare two refusals: the
    404 page carries the navigation, so two 404s differ in nothing else."""
    return _PER_ANSWER.sub(rb"\1", answer.content)
