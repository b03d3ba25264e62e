"""The one security gate's shared parts: refusing access, audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from django.core.exceptions import PermissionDenied
from django.db import transaction

from beatdesk.audit.actions import Category, record

if TYPE_CHECKING:
    from beatdesk.accounts.models import User


class AccessRefused(PermissionDenied):
    """The user may not see or change this record; the refusal is in the audit log."""


def refuse(user: User, object_type: str, object_id: object, reason: str) -> NoReturn:
    # Its own transaction, committed before raising: a refused access is always on record.
    with transaction.atomic():
        record(
            user,
            Category.AUTHORIZATION,
            "access.refused",
            object_type=object_type,
            object_id=str(object_id),
            justification=reason,
        )
    raise AccessRefused(reason)
