"""How many intake transactions one process runs at once.

    async with intake_slot():
        async with unit_of_work():
            ...                              # insert the order, reserve its stock, commit

At a peak every paid order reserves stock, and orders of the same few SKUs wait for each other's stock row
locks inside their transactions, each holding a database connection while it waits. Unbounded, they took
every connection of the pool and the rest of the process waited behind them: on the chaotic day the webhook
sender fell from 3,900 to 450 deliveries a minute and both processes missed their heartbeats. A slot is
taken before the transaction begins, so waiting for one holds nothing in the database; the orders still
reserve one after another on the hot rows, as they would anyway. A task already holding a slot (a page of
orders that applies one of them on its own) does not take a second one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextvars import ContextVar
from weakref import WeakKeyDictionary

#: Intake transactions in flight per process (each may hold a connection while it waits for stock rows).
INTAKE_TRANSACTIONS = 6

_slots: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = WeakKeyDictionary()
_holding: ContextVar[bool] = ContextVar("intake_slot_held", default=False)


@contextlib.asynccontextmanager
async def intake_slot() -> AsyncIterator[None]:
    """Wait for one of this process's intake slots (one per event loop, so tests' loops never share one)."""
    if _holding.get():
        yield
        return
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(INTAKE_TRANSACTIONS)
    async with slots:
        token = _holding.set(True)
        try:
            yield
        finally:
            _holding.reset(token)
