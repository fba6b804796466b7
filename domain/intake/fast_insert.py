"""Writing several new rows of several tables in one round trip, for the intake hot path.

On PostgreSQL the rows go out as one statement of data-modifying CTEs
(``WITH a AS (INSERT …), b AS (INSERT …) INSERT …``); elsewhere each model's
rows are one ``bulk_create``. Column values come from the models themselves
(defaults, ``auto_now_add``, JSON encoding), so a column another feature adds
with a default is filled in without this module knowing it. Ids are not
returned: use it for rows nothing needs to refer to afterwards.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from tortoise import connections
from tortoise.expressions import Q
from tortoise.models import Model


@functools.cache
def _columns(model: type[Model]) -> list[tuple[str, Any]]:
    """(db column, field) for every column written on insert (not a generated key); fixed per model."""
    meta = model._meta
    result = []
    for column in meta.db_fields:
        field = meta.fields_map[meta.fields_db_projection_reverse[column]]
        if field.pk and getattr(field, "generated", False):
            continue
        result.append((column, field))
    return result


async def insert_all(rows: Sequence[Model]) -> None:
    """Insert ``rows`` (model instances, any mix of models) in one transaction-friendly batch."""
    if not rows:
        return
    groups: dict[type[Model], list[Model]] = {}
    for row in rows:
        groups.setdefault(type(row), []).append(row)
    connection = connections.get("default")
    if connection.capabilities.dialect != "postgres":
        for model, items in groups.items():
            await model.bulk_create(items)
        return
    params: list[Any] = []
    statements: list[str] = []
    for model, items in groups.items():
        columns = _columns(model)
        names = ", ".join(f'"{column}"' for column, _ in columns)
        tuples: list[str] = []
        for item in items:
            if len(params) + len(columns) > MAX_PARAMS:  # PostgreSQL allows 32767 parameters per statement
                if tuples:
                    statements.append(f'INSERT INTO "{model._meta.db_table}" ({names}) VALUES {", ".join(tuples)}')
                    tuples = []
                await _run(connection, statements, params)
                params, statements = [], []
            marks = []
            for _, field in columns:
                params.append(field.to_db_value(getattr(item, field.model_field_name), item))
                marks.append(f"${len(params)}")
            tuples.append(f"({', '.join(marks)})")
        statements.append(f'INSERT INTO "{model._meta.db_table}" ({names}) VALUES {", ".join(tuples)}')
    await _run(connection, statements, params)


MAX_PARAMS = 30_000


async def _run(connection: Any, statements: list[str], params: list[Any]) -> None:
    if not statements:
        return
    *leading, last = statements
    sql = ("WITH " + ", ".join(f"w{i} AS ({s})" for i, s in enumerate(leading)) + " " + last) if leading else last
    await connection.execute_query(sql, params)


async def find_or_insert(row: Model, match: dict[str, Any], fill: dict[str, Any] | None = None) -> int:
    """The id of the first row of ``row``'s table whose columns equal ``match``, else of ``row``, inserted.

    ``fill``: text columns to set on a found row where it has none (NULL or
    empty), e.g. a returning buyer's email; what is there is never replaced.
    One statement on PostgreSQL (a lookup, the fill and a conditional insert
    in CTEs); two or three elsewhere. Like any check-then-insert without a
    unique constraint, two racing callers may both insert.
    """
    model = type(row)
    fill = {column: value for column, value in (fill or {}).items() if value}
    connection = connections.get("default")
    if connection.capabilities.dialect != "postgres":
        existing = await model.filter(**match).order_by("id").first()
        if existing is not None:
            for column, value in fill.items():
                await model.filter(id=existing.pk).filter(
                    Q(**{f"{column}__isnull": True}) | Q(**{column: ""})).update(**{column: value})
            return existing.pk
        await row.save()
        return row.pk
    table = model._meta.db_table
    params: list[Any] = []
    conditions = []
    for column, value in match.items():
        params.append(value)
        conditions.append(f'"{column}" = ${len(params)}')
    columns = _columns(model)
    casts = []
    for _, field in columns:
        params.append(field.to_db_value(getattr(row, field.model_field_name), row))
        casts.append(f"${len(params)}::{field.get_for_dialect('postgres', 'SQL_TYPE')}")
    names = ", ".join(f'"{column}"' for column, _ in columns)
    filled = ""
    if fill:
        sets = []
        for column, value in fill.items():
            params.append(value)
            sets.append(f'"{column}" = COALESCE(NULLIF("{column}", \'\'), ${len(params)})')
        # Only a row with something to fill is updated (and locked): a returning buyer's row is read, not written,
        # so concurrent orders of one buyer (or one masked phone) do not queue behind each other's transactions.
        empty = " OR ".join(f'NULLIF("{column}", \'\') IS NULL' for column in fill)
        filled = f'filled AS (UPDATE "{table}" SET {", ".join(sets)} WHERE "id" IN (SELECT "id" FROM found) AND ({empty})), '
    sql = (
        f'WITH found AS (SELECT "id" FROM "{table}" WHERE {" AND ".join(conditions)} ORDER BY "id" LIMIT 1), {filled}'
        f'made AS (INSERT INTO "{table}" ({names}) SELECT {", ".join(casts)} '
        f'WHERE NOT EXISTS (SELECT 1 FROM found) RETURNING "id") '
        f'SELECT "id" FROM found UNION ALL SELECT "id" FROM made'
    )
    rows = await connection.execute_query_dict(sql, params)
    return rows[0]["id"]
