"""The one security gate's shared parts: refusing access, audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404

from beatdesk.audit.actions import Category, record

if TYPE_CHECKING:
    from django.db.models import QuerySet

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


class NotFoundOrHidden(Http404):
    """No such record, or one this user may not see: the same answer either way, so that
    nobody learns which ids exist by trying them."""


def hide(user: User, object_type: str, object_id: object, reason: str, *, exists: bool) -> NoReturn:
    """Answer 404 for a record the door did not find for this user, audited as a refusal
    (the log says whether it exists; the person is told nothing either way).

    A page a role may not open at all is refused with `refuse` (403): that answer says
    nothing about any id."""
    with transaction.atomic():
        record(
            user,
            Category.AUTHORIZATION,
            "access.refused",
            object_type=object_type,
            object_id=str(object_id),
            justification=reason if exists else "no such record",
        )
    raise NotFoundOrHidden("Not found.")


def check_visible(
    user: User,
    visible: QuerySet[Any],
    object_id: object,
    *,
    object_type: str,
    hidden: str,
    key: str = "pk",
) -> None:
    """404, audited, unless the record is among those the user may see (`visible`); the
    same answer for one that does not exist."""
    if not visible.filter(**{key: object_id}).exists():
        exists = visible.model._default_manager.filter(**{key: object_id}).exists()
        hide(user, object_type, object_id, hidden, exists=exists)


def guard(
    user: User,
    allowed: bool,
    visible: QuerySet[Any],
    object_id: object,
    *,
    object_type: str,
    refused: str,
    hidden: str,
    key: str = "pk",
) -> None:
    """The door of a page or action that names a record, before any form is read: 403 for a
    role that may never use it (`allowed` false), then 404 for a record the user may not see
    or that does not exist; both audited."""
    if not allowed:
        refuse(user, object_type, object_id, refused)
    check_visible(user, visible, object_id, object_type=object_type, hidden=hidden, key=key)
