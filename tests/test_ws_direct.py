"""Shared live frames built once per event and written straight to ready sockets (``api.ws_direct``).

The frames are checked with the ``websockets`` library's own parser (a real
client); the end-to-end path under uvicorn's ``websockets-sansio`` protocol is
exercised by ``tests/test_live_subscriptions.py``, whose server takes it.
"""

from __future__ import annotations

import asyncio

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from api.shared_streams import Listener, SharedStream, StreamKey
from api.ws_direct import text_frame

PREFIX = '{"id":"1","type":"next","payload":'


def parse(wire: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(wire)
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        return done.value
    raise AssertionError("incomplete frame")


@pytest.mark.parametrize("size", [0, 5, 125, 126, 200, 65535, 65536, 70000])
def test_a_text_frame_is_what_a_websocket_client_reads_at_every_length(size: int) -> None:
    text = "é" * (size // 2) + "x" * (size % 2)
    frame = parse(text_frame(text))
    assert frame.opcode is Opcode.TEXT
    assert frame.fin
    assert frame.data.decode() == text


class DirectSocket:
    """A socket that takes bytes at once unless ``paused``; the ordinary send waits while paused."""

    def __init__(self) -> None:
        self.wire: list[bytes] = []
        self.sent: list[str] = []
        self.writable = asyncio.Event()
        self.writable.set()

    def direct(self, frame: bytes) -> bool:
        if not self.writable.is_set():
            return False
        self.wire.append(frame)
        return True

    async def send_text(self, frame: str) -> None:
        await self.writable.wait()
        self.sent.append(frame)

    def frames(self) -> list[str]:
        return [parse(wire).data.decode() for wire in self.wire] + self.sent


def stream() -> SharedStream:
    async def source() -> None:
        raise AssertionError("not run here")

    return SharedStream(StreamKey(1, "partner", "subscription { orderEvents { eventId } }", "{}", None), source, str)


async def test_one_wire_frame_per_event_and_operation_id_goes_to_every_ready_socket() -> None:
    shared = stream()
    sockets = [DirectSocket() for _ in range(3)]
    prefixes = [PREFIX, PREFIX, '{"id":"7","type":"next","payload":']
    for socket, prefix in zip(sockets, prefixes, strict=True):
        shared.listeners.add(Listener(socket.send_text, prefix, max_pending=10, direct=socket.direct))
    shared.broadcast(("next", '{"data":{"orderEvents":{"eventId":1}}}'))
    assert sockets[0].wire[0] is sockets[1].wire[0]  # built once, not per subscriber
    assert sockets[2].frames() == ['{"id":"7","type":"next","payload":{"data":{"orderEvents":{"eventId":1}}}}']
    assert sockets[0].frames() == sockets[1].frames() == [PREFIX + '{"data":{"orderEvents":{"eventId":1}}}}']
    assert all(socket.sent == [] for socket in sockets)


def _ready_and_paused(max_pending: int) -> tuple[SharedStream, DirectSocket, DirectSocket, Listener, Listener]:
    """A shared stream with two listeners: one on a ready socket, one on a socket whose writes are paused."""
    shared = stream()
    fast, slow = DirectSocket(), DirectSocket()
    slow.writable.clear()
    quick = Listener(fast.send_text, PREFIX, max_pending=max_pending, direct=fast.direct)
    stuck = Listener(slow.send_text, PREFIX, max_pending=max_pending, direct=slow.direct)
    shared.listeners |= {quick, stuck}
    return shared, fast, slow, quick, stuck


async def test_a_paused_socket_falls_back_to_its_backlog_and_keeps_the_order() -> None:
    shared, fast, slow, quick, stuck = _ready_and_paused(10)
    for n in range(1, 4):
        shared.broadcast(("next", '{"data":{"orderEvents":{"eventId":%d}}}' % n))
    slow.writable.set()  # the first frame after this must still queue behind the backlog, not jump it
    shared.broadcast(("next", '{"data":{"orderEvents":{"eventId":4}}}'))
    await stuck.flushed()
    assert len(fast.frames()) == 4
    assert slow.frames() == fast.frames()
    assert not stuck.finished.done()


async def test_a_socket_paused_past_max_pending_is_dropped_as_slow_while_the_others_get_every_frame() -> None:
    shared, fast, slow, quick, stuck = _ready_and_paused(3)
    for n in range(1, 7):
        shared.broadcast(("next", '{"data":{"orderEvents":{"eventId":%d}}}' % n))
    assert await asyncio.wait_for(stuck.finished, 5) == ("slow", None)
    assert len(fast.frames()) == 6
    assert not quick.finished.done()
    stuck.close()
