"""Recording audit events. Every domain action calls record() inside its transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from beatdesk.audit import chain
from beatdesk.audit.models import AuditEvent, Category

if TYPE_CHECKING:
    from beatdesk.accounts.models import User

__all__ = ["Category", "record", "record_system", "record_system_each"]


def id_range(ids: list[int]) -> str:
    """The object id of an event about a batch: one id, or "first..last" (the payload lists
    each); the column holds 64 characters, so never the whole list."""
    if len(ids) < 2:
        return "".join(str(i) for i in ids)
    return f"{min(ids)}..{max(ids)}"


def force_of(obj: models.Model | None) -> int | None:
    """The force a record belongs to, where it says so itself (no query is made)."""
    if obj is None:
        return None
    if obj._meta.label_lower == "accounts.force":
        return int(obj.pk)
    force_id = getattr(obj, "force_id", None)
    if force_id is not None:
        return int(force_id)
    # A message by its account, an entry by its event, a watch by its operation: only when
    # already loaded with the record.
    for parent in ("account", "event", "operation", "watch", "message"):
        loaded = obj._state.fields_cache.get(parent)
        if isinstance(loaded, models.Model):
            return force_of(loaded)
    return None


def _object_ref(obj: models.Model | None) -> tuple[str, str]:
    if obj is None:
        return "", ""
    return obj._meta.label_lower, str(obj.pk)


def record(
    actor: User | None,
    category: str,
    action: str,
    obj: models.Model | None = None,
    *,
    object_type: str = "",
    object_id: str = "",
    justification: str = "",
    recipient: str = "",
    payload: Any = None,
) -> AuditEvent:
    """Append an event for something a person did (or tried to do)."""
    if obj is not None:
        object_type, object_id = _object_ref(obj)
    force_id = force_of(obj)
    if actor is not None and actor.is_authenticated and actor.pk is not None:
        actor_id: int | None = actor.pk
        label = f"user:{actor.pk}"
        force_id = actor.force_id or force_id
    else:
        actor_id, label = None, "anonymous"
    return chain.append(
        actor_id=actor_id,
        actor_label=label,
        category=category,
        action=action,
        object_type=object_type,
        object_id=object_id,
        justification=justification,
        recipient=recipient,
        payload=payload,
        force_id=force_id,
    )


def record_system(
    component: str,
    category: str,
    action: str,
    obj: models.Model | None = None,
    *,
    object_type: str = "",
    object_id: str = "",
    justification: str = "",
    payload: Any = None,
    force_id: int | None = None,
) -> AuditEvent:
    """Append an event for something the system did by itself (ingestion, routing, …); its
    force is the record's own, or the one given."""
    if obj is not None:
        object_type, object_id = _object_ref(obj)
    return chain.append(
        actor_id=None,
        actor_label=f"system:{component}",
        category=category,
        action=action,
        object_type=object_type,
        object_id=object_id,
        justification=justification,
        payload=payload,
        force_id=force_id if force_id is not None else force_of(obj),
    )


def record_system_each(
    component: str,
    category: str,
    action: str,
    objs: list[models.Model],
    *,
    justification: str = "",
) -> list[AuditEvent]:
    """record_system for each object, one event apiece, appended to the chain at once."""
    label = f"system:{component}"
    return chain.append_many(
        [
            chain.Entry(
                label,
                category,
                action,
                None,
                *_object_ref(obj),
                justification,
                force_id=force_of(obj),
            )  # fmt: skip
            for obj in objs
        ]
    )
