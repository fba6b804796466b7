"""Deciding when a hole in the event ids is final, so the outbox may step over it.

Ids are handed out at insert but rows become visible at commit, so id 41 can be
visible while 40 is still in flight. Stepping over 40 too early would lose it;
waiting forever on a rolled-back id would stall everything behind it.

- ``TimeoutGaps`` (SQLite): SQLite has one writer at a time, so a hole can
  only come from a rollback; a short wait is plenty.
- ``PgSnapshotGaps`` (PostgreSQL): when a hole is first seen, remember which
  transactions were in progress (``pg_current_snapshot()``). The transaction
  that took the missing id was one of them, so once none is still in progress
  the hole is final (rolled back) — however long that transaction ran. A cap
  (``max_wait``) keeps a forgotten idle-in-transaction session from stalling
  the outbox forever; skipping there is logged as an error.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from tortoise import connections

log = logging.getLogger("ordergraph.outbox")


class GapPolicy(Protocol):
    async def is_final(self, missing_id: int) -> bool: ...

    def reset(self) -> None: ...


class TimeoutGaps:
    def __init__(self, timeout: float = 2.0) -> None:
        self.timeout = timeout
        self._id: int | None = None
        self._since = 0.0

    async def is_final(self, missing_id: int) -> bool:
        now = time.monotonic()
        if self._id != missing_id:
            self._id, self._since = missing_id, now
        return now - self._since >= self.timeout

    def reset(self) -> None:
        self._id = None


class PgSnapshotGaps:
    #: Covers the instant between nextval() and the inserting transaction getting its xid.
    MIN_WAIT = 0.2

    def __init__(self, max_wait: float = 60.0) -> None:
        self.max_wait = max_wait
        self._id: int | None = None
        self._since = 0.0
        self._snapshot = ""

    async def is_final(self, missing_id: int) -> bool:
        conn = connections.get("default")
        now = time.monotonic()
        if self._id != missing_id:
            rows = await conn.execute_query_dict("SELECT pg_current_snapshot()::text AS snapshot")
            self._id, self._since, self._snapshot = missing_id, now, rows[0]["snapshot"]
            return False
        waited = now - self._since
        if waited < self.MIN_WAIT:
            return False
        rows = await conn.execute_query_dict(
            "SELECT count(*) AS running FROM pg_snapshot_xip(CAST($1::text AS pg_snapshot)) AS x(xid)"
            " WHERE pg_xact_status(x.xid) = 'in progress'",
            [self._snapshot],
        )
        if rows[0]["running"] == 0:
            return True
        if waited >= self.max_wait:
            log.error("event id %s still missing after %.0fs with its writer in progress; stepping over it", missing_id, waited)
            return True
        return False

    def reset(self) -> None:
        self._id = None


def policy_for(database_url: str) -> GapPolicy:
    return PgSnapshotGaps() if database_url.startswith(("postgres", "asyncpg")) else TimeoutGaps()
