"""Many rows in one prepared statement, for the hot paths (ingest, triage, clustering).

Django's bulk_create and bulk_update prepare every value of every row through the query
compiler, and bulk_update builds a CASE per field and row; on a 500-message batch that was
most of the time spent outside the models. These run one prepared INSERT or UPDATE for all
rows, with each value made ready by its own field exactly as the ORM would, so what is
stored is the same. No signals are sent and no primary keys come back: use them only
where neither is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
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


def _setup(
    model: type[Model], names: Sequence[str] | None
) -> tuple[Any, list[Field[Any, Any]], Callable[[str], str]]:
    connection = connections[router.db_for_write(model)]
    return connection, _fields(model, names), connection.ops.quote_name


def _column(field: Field[Any, Any]) -> str:
    assert field.column is not None  # checked in _fields
    return field.column


def _prepared(
    obj: Model, fields: list[Field[Any, Any]], connection: Any, *, add: bool = False
) -> list[Any]:
    # pre_save on insert fills auto_now(_add) fields, as Model.save and bulk_create do.
    return [
        f.get_db_prep_save(f.pre_save(obj, True) if add else getattr(obj, f.attname), connection)
        for f in fields
    ]


def insert_many(
    model: type[Model], objs: Iterable[Model], names: Sequence[str] | None = None
) -> int:
    """INSERT each object's named fields (all but an automatic key when none are named)."""
    rows = list(objs)
    if not rows:
        return 0
    connection, fields, quote = _setup(model, names)
    columns = ", ".join(quote(_column(f)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, [_prepared(o, fields, connection, add=True) for o in rows])
    return len(rows)


def update_many(model: type[Model], objs: Iterable[Model], names: Sequence[str]) -> int:
    """UPDATE the named fields of each object, found by its primary key."""
    rows = list(objs)
    if not rows:
        return 0
    connection, fields, quote = _setup(model, names)
    pk = model._meta.pk
    assert pk is not None
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


def insert_returning(
    model: type[Model], objs: Sequence[Model], names: Sequence[str] | None = None
) -> None:
    """INSERT the objects in multi-row statements and set each one's new primary key.

    For rows whose keys are needed next (payloads, messages). Uses INSERT … RETURNING,
    which SQLite (3.35+) and PostgreSQL both return in the order the rows were given, as
    Django's own bulk_create relies on.
    """
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    if not connection.features.can_return_rows_from_bulk_insert:
        model._default_manager.bulk_create(list(objs))  # pragma: no cover - old SQLite
        return
    connection, fields, quote = _setup(model, names)
    pk = model._meta.pk
    assert pk is not None
    columns = ", ".join(quote(_column(f)) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    limit = connection.features.max_query_params or 30000
    per = max(1, min(500, limit // max(len(fields), 1)))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per):
            chunk = objs[start : start + per]
            sql = (
                f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
                f"VALUES {', '.join([row] * len(chunk))} RETURNING {quote(_column(pk))}"
            )
            params = [v for o in chunk for v in _prepared(o, fields, connection, add=True)]
            cursor.execute(sql, params)
            for obj, (key,) in zip(chunk, cursor.fetchall(), strict=True):
                obj.pk = key
                obj._state.adding = False
                obj._state.db = connection.alias
