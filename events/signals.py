"""A process-local doorbell: use cases ring it after commit so the dispatcher wakes at once.

The dispatcher also polls, so a missed ring (another process committed) only costs latency.
"""

from __future__ import annotations

import asyncio

_listeners: set[asyncio.Event] = set()


def ring() -> None:
    for event in list(_listeners):
        event.set()


def listen() -> asyncio.Event:
    event = asyncio.Event()
    _listeners.add(event)
    return event


def stop_listening(event: asyncio.Event) -> None:
    _listeners.discard(event)
