"""Changing a person's own account: the second factor, going on or off shift, the password.
Each change is recorded in the audit log in the same transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from beatdesk.accounts.access import refuse
from beatdesk.audit.actions import Category, record, record_system

if TYPE_CHECKING:
    from django.contrib.auth.forms import PasswordChangeForm

from beatdesk.accounts.models import Force, Role, User


def do_enrolment_device(user: User) -> TOTPDevice:
    """The unconfirmed authenticator a person enrols on first sign-in (made once)."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "Authenticator app"}
    )
    return device


def do_second_factor_passed(user: User, device: TOTPDevice, *, enrolling: bool) -> None:
    """A right code: the device is confirmed if this was its enrolment; both on record."""
    with transaction.atomic():
        if enrolling:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            record(user, Category.AUTHENTICATION, "second_factor.enrolled", user)
        record(user, Category.AUTHENTICATION, "login.second_factor", user)


def check_shift(user: User, on_shift: bool) -> None:
    """Going on or off shift, for the desk's staff: auto-assignment follows it."""
    if not user.is_staff_role:
        refuse(user, "accounts.user", user.pk, "only the desk's staff go on and off shift")
    with transaction.atomic():
        user.on_shift = on_shift
        user.save(update_fields=["on_shift"])
        record(user, Category.ALTERATION, "shift.on" if on_shift else "shift.off", user)


def do_change_password(user: User, form: PasswordChangeForm) -> None:
    """Save a valid password change form for its own user."""
    with transaction.atomic():
        form.save()
        record(user, Category.ALTERATION, "password.changed", user)


def do_set_up(
    force: Force | None, new_force: dict[str, str], administrator: dict[str, str]
) -> tuple[Force, User]:
    """beatdesk setup: the force (unless it exists) and its first administrator, in one
    transaction, each recorded as the system's doing."""
    with transaction.atomic():
        if force is None:
            force = Force.objects.create(**new_force)
            record_system(
                "setup",
                Category.ALTERATION,
                "force.created",
                force,
                payload={"name": force.name, "slug": force.slug},
            )
        admin = User.objects.create_user(**administrator, force=force, role=Role.ADMINISTRATOR)
        record_system(
            "setup", Category.ALTERATION, "user.created", admin, payload={"role": admin.role}
        )
    return force, admin
