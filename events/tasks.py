"""Stopping a background loop: cancel it and wait until it has really ended.

    self._task = asyncio.create_task(self._run())
    ...
    await cancel_and_wait(self._task)      # None is fine: a loop that never started
    self._task = None
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` and wait for it, so nothing it holds outlives the caller's ``stop``."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def slots_to_claim(concurrency: int, in_flight: int) -> int:
    """How many queued jobs a worker loop should claim now: none until a quarter of its slots are free
    (a claim costs the same few statements whatever its size), unless nothing is in flight at all.

        for job in await claim(slots_to_claim(16, len(inflight)), lease): ...
    """
    free = concurrency - in_flight
    return free if free >= max(1, concurrency // 4) or not in_flight else 0
