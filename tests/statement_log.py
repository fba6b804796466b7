"""Counting the SQL statements a block of code runs, from Tortoise's query log.

    with counted_statements() as statements:
        await gql(key, PAGE)
    assert len(statements) <= 12

Used by ``tests/test_query_count.py`` and ``bench/graph_read.py``. Only the
current task and tasks it spawns are counted (a context variable), and the
log's records are kept off every other handler: they carry parameter values.

Savepoints never reach that log (asyncpg opens them itself), so
``counted_savepoints`` counts the ORM's calls that open one instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_counting: ContextVar[bool] = ContextVar("counting_statements", default=False)


class _StatementLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, list[Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if _counting.get() and isinstance(record.args, tuple) and len(record.args) == 2:
            self.statements.append((str(record.args[0]), list(record.args[1] or [])))


@contextmanager
def counted_statements() -> Iterator[list[tuple[str, list[Any]]]]:
    """(sql, values) of every statement executed in this context while inside the block."""
    logger = logging.getLogger("tortoise.db_client")
    handler, level = _StatementLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    token = _counting.set(True)
    try:
        yield handler.statements
    finally:
        _counting.reset(token)
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = True


@contextmanager
def counted_savepoints() -> Iterator[list[str]]:
    """One entry per savepoint a nested transaction opened on PostgreSQL while inside the block (this task)."""
    from tortoise.backends.asyncpg.client import TransactionWrapper

    opened: list[str] = []
    original = TransactionWrapper.savepoint

    async def counting(self: TransactionWrapper) -> None:
        if _counting.get():
            opened.append("SAVEPOINT")
        await original(self)

    TransactionWrapper.savepoint = counting  # type: ignore[method-assign]
    token = _counting.set(True)
    try:
        yield opened
    finally:
        _counting.reset(token)
        TransactionWrapper.savepoint = original  # type: ignore[method-assign]
