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

Tortoise's transaction context takes the client's asyncio lock before ``BEGIN`` and releases it only in
``__aexit__``, which never runs when ``BEGIN`` itself fails; a single "database is locked" at ``BEGIN``
would then wedge every later transaction of the process. ``_ReleasingTransactionContext`` gives the lock
back when beginning fails.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class _ReleasingTransactionContext(SqliteTransactionContext):
    """Tortoise's context, except that a failed ``BEGIN`` releases the lock and the connection it took."""

    async def __aenter__(self) -> Any:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
        except BaseException:
            self._trxlock.release()
            raise
        try:
            await self.connection.begin()
        except BaseException:
            get_connections().reset(self.token)
            self._trxlock.release()
            raise
        return self.connection


class ImmediateSqliteClient(SqliteClient):
    """``SqliteClient`` whose top-level transactions start with ``BEGIN IMMEDIATE``; savepoints are unchanged."""

    def _in_transaction(self) -> TransactionContext:
        return _ReleasingTransactionContext(_ImmediateTransaction(self), self._lock)


client_class = ImmediateSqliteClient


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return ImmediateSqliteClient
