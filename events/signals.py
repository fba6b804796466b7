"""Process-local doorbells: rung after commit so waiting loops wake at once.

``ring()`` (topic ``events``) is rung by ``domain/unit_of_work.py`` after every
commit and by the PostgreSQL NOTIFY listener when another process committed.
The webhook fan-out rings ``deliveries`` so the sender picks new rows up at once.
Every loop also polls, so a missed ring only costs latency.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

EVENTS = "events"
DELIVERIES = "deliveries"

_listeners: dict[str, set[asyncio.Event]] = defaultdict(set)


def ring(topic: str = EVENTS) -> None:
    for event in list(_listeners[topic]):
        event.set()


def listen(topic: str = EVENTS) -> asyncio.Event:
    event = asyncio.Event()
    _listeners[topic].add(event)
    return event


def stop_listening(event: asyncio.Event, topic: str = EVENTS) -> None:
    _listeners[topic].discard(event)


async def wait_or_timeout(event: asyncio.Event, timeout: float) -> bool:
    """Wait for ``event`` at most ``timeout`` seconds; True if it was set.

    Built on ``asyncio.timeout``, not ``wait_for``: on Python 3.11 ``wait_for``
    can swallow a cancellation that races with the event being set, leaving a
    loop that never stops (seen as a hung shutdown).
    """
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True
