"""Small SQL helpers for statements the ORM cannot express, portable between SQLite and PostgreSQL.

    row_id = await insert_ignoring_conflict("inbound_payload", ["tenant_id", "sha256"], [1, digest])
    # None when a unique constraint says the row already exists: race-free, one round trip
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise import connections


def dialect_sql(sql: str, count: int) -> str:
    """Rewrite ``?`` placeholders to ``$n`` on PostgreSQL."""
    connection = connections.get("default")
    if connection.capabilities.dialect != "postgres":
        return sql
    parts = sql.split("?")
    assert len(parts) == count + 1, sql
    return "".join(part + (f"${index + 1}" if index < count else "") for index, part in enumerate(parts))


async def insert_ignoring_conflict(table: str, columns: Sequence[str], values: Sequence[Any]) -> int | None:
    """Insert one row; the new id, or ``None`` when a unique constraint says it already exists."""
    marks = ", ".join("?" for _ in columns)
    names = ", ".join(f'"{column}"' for column in columns)
    sql = dialect_sql(f'INSERT INTO "{table}" ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING RETURNING "id"', len(columns))
    rows = await connections.get("default").execute_query_dict(sql, list(values))
    return rows[0]["id"] if rows else None
