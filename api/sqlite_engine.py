"""Tortoise's SQLite client, with transactions that take the write lock when they begin.

Two processes share the embedded database (``ordergraph serve`` and a CLI
command). A transaction opened with a plain ``BEGIN`` reads first and asks
for the write lock on its first write; if the other process wrote in
between, SQLite cannot upgrade the stale read and answers "database is
locked" at once, without waiting for ``busy_timeout`` (the busy handler only
runs for a transaction that holds no lock yet). ``BEGIN IMMEDIATE`` asks
for the write lock up front, where the busy handler does wait, so writers
queue instead of failing. Reads outside transactions are not affected (WAL
readers never wait). Named as the ``engine`` in ``api.database``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.exceptions import TransactionManagementError


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    """``SqliteClient`` whose top-level transactions start with ``BEGIN IMMEDIATE``; savepoints are unchanged."""

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(self), self._lock)


client_class = ImmediateSqliteClient


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return ImmediateSqliteClient
