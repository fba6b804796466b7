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
