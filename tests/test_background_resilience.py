"""A background loop survives a call that never returns, and a broken HTTP pool is replaced, not reused."""

from __future__ import annotations

import asyncio

import pytest

from adapters.channels.api.http import Clients
from api import tracking_tasks
from api.settings import Settings


async def test_a_pass_that_never_returns_is_cancelled_and_the_loop_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracking_tasks, "PASS_BUDGET", 0.2)
    watch = tracking_tasks.TrackingWatch(Settings(tracking_round_seconds=0.001))
    passes: list[str] = []
    done = asyncio.Event()

    async def one_pass() -> None:
        passes.append("started")
        if len(passes) == 1:
            await asyncio.Event().wait()  # a provider call that never answers
        done.set()

    loop = asyncio.create_task(watch._every("subscribing parcels", one_pass))
    try:
        await asyncio.wait_for(done.wait(), timeout=5)
    finally:
        loop.cancel()
    assert len(passes) >= 2  # the hung pass was given up on and the next one ran


async def test_a_discarded_client_is_replaced_by_a_fresh_one() -> None:
    clients = Clients()
    first = clients.get("http://127.0.0.1:9", 5.0)
    assert clients.get("http://127.0.0.1:9", 5.0) is first
    clients.discard("http://127.0.0.1:9", 5.0)
    second = clients.get("http://127.0.0.1:9", 5.0)
    assert second is not first and not second.is_closed
    for _ in range(100):  # the discarded one closes in the background
        if first.is_closed:
            break
        await asyncio.sleep(0.01)
    assert first.is_closed
    await clients.aclose()
