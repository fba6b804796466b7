"""One transaction per use case, and the doorbell rung once it has committed.

    async with unit_of_work():
        order = await lock_order(actor, order_id)
        ...
        await events.log.append(...)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise.transactions import in_transaction

from events import signals


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[None]:
    async with in_transaction():
        yield
    signals.ring()
