"""Many rows in one prepared statement, for the hot paths (ingest, triage, clustering).

Django's bulk_create and bulk_update prepare every value of every row through the query
compiler, and bulk_update builds a CASE per field and row; on a 500-message batch that was
most of the time spent outside the models. These run one prepared INSERT or UPDATE for all
rows, with each value made ready by its own field exactly as the ORM would, so what is
stored is the same. No signals are sent and no primary keys come back: use them only
where neither is needed.

insert_many and update_many take model instances or plain rows (any object with the
fields' attribute names, "team_id" for a foreign key, and pk to update): building a model
instance costs more than writing its row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import SimpleNamespace
from typing import Any, TypeVar

from django.db import connections, models, router
from django.db.models import Field, Model
from django.db.models.fields import AutoFieldMixin

M = TypeVar("M", bound=Model)


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


# Plain field classes whose database value is the Python value itself when that value is
# exactly of this type (or None): Django's preparation of them only checks and converts.
_PLAIN: dict[str, type] = {
    "CharField": str,
    "TextField": str,
    "IntegerField": int,
    "BigIntegerField": int,
    "SmallIntegerField": int,
    "PositiveIntegerField": int,
    "PositiveSmallIntegerField": int,
    "PositiveBigIntegerField": int,
    "AutoField": int,
    "BigAutoField": int,
    "FloatField": float,
    "BooleanField": bool,
}


def _plain_type(field: Field[Any, Any]) -> type | None:
    """The exact Python type that needs no preparation for this field, if there is one."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return None  # pre_save fills it
    target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
    kind = type(target).__name__
    # Only Django's own classes, as they are: a subclass may prepare values its own way.
    if type(target).__module__.startswith("django.db.models.fields") and kind in _PLAIN:
        return _PLAIN[kind]
    return None


def _is_datetime(field: Field[Any, Any]) -> bool:
    return (
        type(field) is models.DateTimeField
        and not field.auto_now  # type: ignore[attr-defined]
        and not field.auto_now_add  # type: ignore[attr-defined]
    )


def _preparer(
    fields: list[Field[Any, Any]], connection: Any, *, add: bool = False
) -> Callable[[Any], list[Any]]:
    """_prepared for many objects: values of plain fields pass as they are (the same as the
    ORM would store), everything else goes through its field."""
    plan = [(f, f.attname, _plain_type(f), _is_datetime(f)) for f in fields]
    adapt_datetime = connection.ops.adapt_datetimefield_value

    def prepare(obj: Any) -> list[Any]:
        values = []
        state = obj.__dict__
        for field, attname, plain, datetime in plan:
            if attname in state:
                value = state[attname]
                if plain is not None and (value is None or type(value) is plain):
                    values.append(value)
                    continue
                # An aware datetime: the field would only hand it to the backend's adapter.
                if datetime and type(value) is dt.datetime and value.tzinfo is not None:
                    values.append(adapt_datetime(value))
                    continue
            values.append(
                field.get_db_prep_save(
                    field.pre_save(obj, True) if add else getattr(obj, attname), connection
                )
            )
        return values

    return prepare


def insert_many(
    model: type[Model], objs: Iterable[Model | SimpleNamespace], names: Sequence[str] | None = None
) -> int:
    """INSERT each object's named fields (all but an automatic key when none are named)."""
    rows = list(objs)
    if not rows:
        return 0
    connection, fields, quote = _setup(model, names)
    if _unnest_types(fields, connection) is not None:
        # PostgreSQL: one statement per batch, one array per column (see _inserts).
        for _ in _inserts(model, rows, names, ""):
            pass
        return len(rows)
    columns = ", ".join(quote(_column(f)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    prepare = _preparer(fields, connection, add=True)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [prepare(o) for o in rows])
    return len(rows)


def update_many(
    model: type[Model], objs: Iterable[Model | SimpleNamespace], names: Sequence[str]
) -> int:
    """UPDATE the named fields of each object, found by its primary key."""
    rows = list(objs)
    if not rows:
        return 0
    connection, fields, quote = _setup(model, names)
    pk = model._meta.pk
    assert pk is not None
    table, key = quote(model._meta.db_table), quote(_column(pk))
    prepare = _preparer(fields, connection)
    params = [[pk.get_db_prep_value(o.pk, connection), *prepare(o)] for o in rows]
    arrays = _unnest_types([pk, *fields], connection)
    with connection.cursor() as cursor:
        if arrays is not None and len({p[0] for p in params}) == len(params):
            # PostgreSQL: one UPDATE … FROM UNNEST for the batch (a key given twice would
            # leave which value wins to the planner: those go one by one, below).
            names_v = [f"v{i}" for i in range(len(arrays))]
            sets = ", ".join(
                f"{quote(_column(f))} = v.{n}" for f, n in zip(fields, names_v[1:], strict=True)
            )
            sql = (
                f"UPDATE {table} SET {sets} FROM {_unnest(arrays)} "  # noqa: S608
                f"AS v({', '.join(names_v)}) WHERE {table}.{key} = v.v0"
            )
            for chunk in _chunks(params, _UNNEST_ROWS):
                cursor.execute(sql, _by_column(chunk, len(arrays)))
            return len(rows)
        sets = ", ".join(f"{quote(_column(f))} = %s" for f in fields)
        sql = f"UPDATE {table} SET {sets} WHERE {key} = %s"  # noqa: S608
        cursor.executemany(sql, [[*p[1:], p[0]] for p in params])
    return len(rows)


# Rows per UNNEST statement: the arrays are parameters, so no placeholder limit applies.
_UNNEST_ROWS = 5000


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _unnest(arrays: list[str]) -> str:
    return "UNNEST(" + ", ".join(f"(%s)::{t}[]" for t in arrays) + ")"


def _by_column(rows: Iterable[list[Any]], width: int) -> list[list[Any]]:
    columns: list[list[Any]] = [[] for _ in range(width)]
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return columns


def _inserts(
    model: type[Model], objs: Sequence[Any], names: Sequence[str] | None, tail: str
) -> Iterator[tuple[Sequence[Any], list[Any]]]:
    """Multi-row INSERTs of the objects ending in `tail` (a RETURNING clause, or nothing):
    each chunk of objects with the rows its statement returned."""
    connection, fields, quote = _setup(model, names)
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(_column(f)) for f in fields)
    prepare = _preparer(fields, connection, add=True)
    arrays = _unnest_types(fields, connection)
    with connection.cursor() as cursor:
        if arrays is not None:
            # PostgreSQL: one array per column, so the statement stays short. psycopg parses
            # a long one (500 rows of placeholders) afresh every time, in Python: that was
            # a third of storing a batch. Rows come back in the order given, as Django's
            # own bulk_create relies on.
            sql = f"INSERT INTO {table} ({columns}) SELECT * FROM {_unnest(arrays)} {tail}"  # noqa: S608
            for chunk in _chunks(objs, _UNNEST_ROWS):
                cursor.execute(sql, _by_column(map(prepare, chunk), len(fields)))
                yield chunk, cursor.fetchall() if tail else []
            return
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        limit = connection.features.max_query_params or 30000
        per = max(1, min(500, limit // max(len(fields), 1)))
        for start in range(0, len(objs), per):
            chunk = objs[start : start + per]
            sql = (
                f"INSERT INTO {table} ({columns}) "  # noqa: S608
                f"VALUES {', '.join([row] * len(chunk))} {tail}"
            )
            cursor.execute(sql, [v for o in chunk for v in prepare(o)])
            yield chunk, cursor.fetchall() if tail else []


def _unnest_types(fields: list[Field[Any, Any]], connection: Any) -> list[str] | None:
    """The array types to UNNEST the columns from on PostgreSQL, or None where it cannot
    (another database, or a field Django would not UNNEST either)."""
    if connection.vendor != "postgresql":
        return None
    types = []
    for field in fields:
        target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
        db_type = field.db_type(connection)
        if (
            hasattr(field, "get_placeholder")
            or target.get_internal_type() not in connection.data_types
            or not db_type
        ):
            return None
        types.append(db_type.split("(")[0])  # varchar[], not varchar(16)[]: nothing cut
    return types


def _stored_as(obj: Model, key: Any, alias: str) -> None:
    obj.pk = key
    obj._state.adding = False
    obj._state.db = alias


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
    pk = model._meta.pk
    assert pk is not None
    tail = f"RETURNING {connection.ops.quote_name(_column(pk))}"
    for chunk, keys in _inserts(model, objs, names, tail):
        for obj, (key,) in zip(chunk, keys, strict=True):
            _stored_as(obj, key, connection.alias)


def insert_new(model: type[Model], objs: Sequence[M], key: Sequence[str]) -> list[M]:
    """INSERT the objects that do not clash with a stored row on the unique columns `key`
    (INSERT … ON CONFLICT DO NOTHING), set the new primary key on each one inserted and
    return those. The others (another process stored the same row first) keep no key.

    SQLite (3.35+) and PostgreSQL both take the statement; the inserted rows are matched
    back to their objects by `key`, since a row left out returns nothing.
    """
    if not objs:
        return []
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    key_fields = _fields(model, key)
    pk = model._meta.pk
    assert pk is not None
    conflict = ", ".join(quote(_column(f)) for f in key_fields)
    returning = ", ".join(quote(_column(f)) for f in [pk, *key_fields])
    key_of = _preparer(key_fields, connection)
    by_key = {tuple(key_of(o)): o for o in objs}
    inserted = []
    tail = f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {returning}"
    for _, rows in _inserts(model, objs, None, tail):
        for new_pk, *values in rows:
            obj = by_key[tuple(values)]
            _stored_as(obj, new_pk, connection.alias)
            inserted.append(obj)
    return inserted
