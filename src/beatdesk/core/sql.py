"""Many rows in one prepared statement, for the hot paths (ingest, triage, clustering).

Django's bulk_create and bulk_update prepare every value of every row through the query
compiler, and bulk_update builds a CASE per field and row; on a 500-message batch that was
most of the time spent outside the models. These run one prepared INSERT or UPDATE for all
rows, with each value made ready by its own field exactly as the ORM would, so what is
stored is the same. No signals are sent and no primary keys come back: use them only
where neither is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model
from django.db.models.fields import AutoFieldMixin


def _fields(model: type[Model], names: Sequence[str] | None) -> list[Field[Any, Any]]:
    if names is None:  # every stored column but an automatic primary key
        pk = model._meta.pk
        names = [
            f.name
            for f in model._meta.concrete_fields
            if not (f is pk and isinstance(f, AutoFieldMixin))
        ]
    fields = []
    for name in names:
        field = model._meta.get_field(name)
        if not isinstance(field, Field) or field.column is None:
            raise ValueError(f"{model.__name__}.{name} is not a stored column")
        fields.append(field)
    return fields


def _column(field: Field[Any, Any]) -> str:
    assert field.column is not None  # checked in _fields
    return field.column


def _prepared(obj: Model, fields: list[Field[Any, Any]], connection: Any) -> list[Any]:
    return [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]


def insert_many(
    model: type[Model], objs: Iterable[Model], names: Sequence[str] | None = None
) -> int:
    """INSERT each object's named fields (all but an automatic key when none are named)."""
    rows = list(objs)
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    fields = _fields(model, names)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(_column(f)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, [_prepared(o, fields, connection) for o in rows])
    return len(rows)


def update_many(model: type[Model], objs: Iterable[Model], names: Sequence[str]) -> int:
    """UPDATE the named fields of each object, found by its primary key."""
    rows = list(objs)
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    fields = _fields(model, names)
    pk = model._meta.pk
    assert pk is not None
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(_column(f))} = %s" for f in fields)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {sets} "  # noqa: S608
        f"WHERE {quote(_column(pk))} = %s"
    )
    params = [
        [*_prepared(o, fields, connection), pk.get_db_prep_value(o.pk, connection)] for o in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(rows)
