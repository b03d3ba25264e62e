"""beatdesk setup: the force, its first administrator and the keys; a second run changes
nothing; bad answers are named, not a traceback."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from beatdesk.accounts.models import Force, Role, User
from beatdesk.audit.models import AuditEvent

PASSWORD = "correct-horse-battery-staple-9"


def _flags(tmp_path: Path, **over: str) -> list[str]:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    given = {
        "force-name": "Westmere Police",
        "force-slug": "westmere",
        "reference-prefix": "WM",
        "admin-username": "chief",
        "admin-email": "chief@example.org",
        "admin-password-file": str(secret),
        **over,
    }
    return ["--no-input", *[f"--{k}={v}" for k, v in given.items() if v is not None]]


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("setup", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_setup_creates_the_force_and_administrator_then_changes_nothing(tmp_path: Path) -> None:
    out = _run(*_flags(tmp_path))
    force = Force.objects.get()
    assert (force.name, force.slug, force.reference_prefix) == ("Westmere Police", "westmere", "WM")
    admin = User.objects.get(username="chief")
    assert admin.role == Role.ADMINISTRATOR and admin.force == force
    assert admin.check_password(PASSWORD)
    assert "beatdesk worker" in out and "beatdesk scheduler" in out and "docs/deployment.md" in out
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"force.created", "user.created"} <= actions
    events = AuditEvent.objects.count()

    again = _run(*_flags(tmp_path, **{"force-name": "Other"}))
    assert "Nothing changed" in again
    assert Force.objects.count() == 1 and User.objects.count() == 1
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("over", "said"),
    [
        ({"force-slug": "not a slug"}, "--force-slug"),
        ({"admin-email": "nobody"}, "--admin-email"),
        ({"admin-password-file": "/no/such/file"}, "cannot read"),
        ({"reference-prefix": "TOO-LONG-PREFIX"}, "--reference-prefix"),
        ({"admin-username": None}, "--admin-username is required"),
    ],
)
def test_bad_answers_are_named_and_nothing_is_written(
    tmp_path: Path, over: dict[str, str | None], said: str
) -> None:
    with pytest.raises(CommandError, match=said):
        _run(*_flags(tmp_path, **over))  # type: ignore[arg-type]
    assert not Force.objects.exists() and not User.objects.exists()


@pytest.mark.django_db
def test_a_weak_password_is_refused(tmp_path: Path) -> None:
    weak = tmp_path / "weak"
    weak.write_text("short")
    with pytest.raises(CommandError, match="too short"):
        _run(*_flags(tmp_path, **{"admin-password-file": str(weak)}))
    assert not User.objects.exists()
