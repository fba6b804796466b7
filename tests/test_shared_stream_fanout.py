"""A shared live stream writes each frame straight to ready sockets; a paused socket never holds up the others.

The sockets here are in-memory writers with the shape of ``WebSocket.send_text``:
one takes every write at once, one is paused (its peer stopped reading) until
the test resumes it. The end-to-end protocol over real sockets is covered by
``tests/test_live_subscriptions.py``.
"""

from __future__ import annotations

import asyncio

import pytest

from api.shared_streams import Listener

PREFIX = '{"id":"1","type":"next","payload":'


class Socket:
    """Records frames; while ``paused`` a write waits, as uvicorn's does once the transport's buffer is full."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.writable = asyncio.Event()
        self.writable.set()
        self.refuse = False

    async def send_text(self, frame: str) -> None:
        await self.writable.wait()
        if self.refuse:
            raise RuntimeError('Cannot call "send" once a close message has been sent.')
        self.frames.append(frame)


def payload(n: int) -> str:
    return '{"data":{"orderEvents":{"eventId":%d}}}' % n


async def test_a_ready_socket_gets_the_whole_frame_at_once_without_a_task_of_its_own() -> None:
    socket = Socket()
    listener = Listener(socket.send_text, PREFIX, max_pending=10)
    listener.next(payload(1))
    listener.next(payload(2))
    assert socket.frames == [PREFIX + payload(1) + "}", PREFIX + payload(2) + "}"]
    assert listener.draining is None
    assert not listener.finished.done()


async def test_a_paused_socket_catches_up_in_order_while_the_others_are_served_at_once() -> None:
    fast, slow = Socket(), Socket()
    slow.writable.clear()
    listeners = [Listener(fast.send_text, PREFIX, max_pending=10), Listener(slow.send_text, PREFIX, max_pending=10)]
    for n in range(1, 6):
        for listener in listeners:
            listener.next(payload(n))
    assert len(fast.frames) == 5
    assert slow.frames == []
    slow.writable.set()
    await listeners[1].flushed()
    assert slow.frames == fast.frames
    assert not listeners[1].finished.done()


async def test_a_socket_paused_past_max_pending_is_dropped_as_slow_and_the_others_keep_going() -> None:
    fast, slow = Socket(), Socket()
    slow.writable.clear()
    quick = Listener(fast.send_text, PREFIX, max_pending=3)
    stuck = Listener(slow.send_text, PREFIX, max_pending=3)
    for n in range(1, 7):
        quick.next(payload(n))
        stuck.next(payload(n))
    assert await asyncio.wait_for(stuck.finished, 5) == ("slow", None)
    assert len(fast.frames) == 6
    assert not quick.finished.done()
    stuck.close()


async def test_a_refused_write_ends_the_subscription_as_gone() -> None:
    socket = Socket()
    socket.refuse = True
    listener = Listener(socket.send_text, PREFIX, max_pending=10)
    listener.next(payload(1))
    assert listener.finished.result() == ("gone", None)


async def test_closing_a_listener_with_a_backlog_cancels_its_pending_write() -> None:
    socket = Socket()
    socket.writable.clear()
    listener = Listener(socket.send_text, PREFIX, max_pending=10)
    listener.next(payload(1))
    draining = listener.draining
    assert draining is not None
    listener.close()
    with pytest.raises(asyncio.CancelledError):
        await draining
    socket.writable.set()
    await asyncio.sleep(0)
    assert socket.frames == []
