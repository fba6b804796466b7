"""A lean ``graphql-transport-ws`` subscriber for load generation: thousands per process, little CPU each.

The ``websockets`` client costs ~30-50 us of Python per received frame (its
parser generator, assembler, ``recv`` and a task per socket): at 10,000
subscribers and 10 events/s that is several cores, more than the server it
measures. Here each socket is a bare ``asyncio.Protocol``: the RFC 6455
handshake is written by hand, server frames (unmasked, whole text messages)
are cut from the buffer in ``data_received`` and a ``next`` frame's event id is
read without decoding its JSON; pings get pongs, client frames are masked.
It is a benchmark tool, not a general client: the tests use ``gql`` and
``websockets``, real clients, for the protocol itself.

    socket = await LeanSubscriber.open("127.0.0.1", port, "/graphql", received)
    await socket.subscribe({"apiKey": key}, {"id": "1", "type": "subscribe", "payload": {...}})
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import time
from typing import Any

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
EVENT_ID = b'"eventId":'


def masked_frame(opcode: int, data: bytes) -> bytes:
    """One client-to-server frame (clients must mask)."""
    key = os.urandom(4)
    size = len(data)
    pad = (key * (size // 4 + 1))[:size]
    body = (int.from_bytes(data, "big") ^ int.from_bytes(pad, "big")).to_bytes(size, "big") if size else b""
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    return head + key + body


class LeanSubscriber(asyncio.Protocol):
    """One WebSocket: appends ``(event_id, time.time())`` to ``received`` for every ``next`` frame."""

    def __init__(self, received: list[tuple[int, float]], key: bytes) -> None:
        loop = asyncio.get_running_loop()
        self.received = received
        self.expect = base64.b64encode(hashlib.sha1(key + GUID).digest())
        self.buffer = b""
        self.upgraded = False
        self.transport: Any = None
        self.opened: asyncio.Future[None] = loop.create_future()
        self.acked: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[int] = loop.create_future()

    @classmethod
    async def open(cls, host: str, port: int, path: str, received: list[tuple[int, float]]) -> LeanSubscriber:
        key = base64.b64encode(os.urandom(16))
        _, socket = await asyncio.get_running_loop().create_connection(lambda: cls(received, key), host, port)
        socket.transport.write(
            b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + f"{host}:{port}".encode()
            + b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key
            + b"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
        )
        await asyncio.wait_for(socket.opened, 30)
        return socket

    async def subscribe(self, init_payload: dict[str, Any], subscribe: dict[str, Any]) -> None:
        self.send_text({"type": "connection_init", "payload": init_payload})
        await asyncio.wait_for(self.acked, 30)
        self.send_text(subscribe)

    def send_text(self, message: dict[str, Any]) -> None:
        self.transport.write(masked_frame(0x1, json.dumps(message).encode()))

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(masked_frame(0x8, (1000).to_bytes(2, "big")))
            self.transport.close()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(1006)
        for future in (self.opened, self.acked):
            if not future.done():
                future.set_exception(ConnectionError("closed before the handshake finished"))

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buf = self.buffer + data if self.buffer else data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buf
                return
            head = buf[:end]
            if not head.startswith(b"HTTP/1.1 101") or self.expect not in head:
                self.opened.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace")))
                self.transport.close()
                return
            self.upgraded = True
            self.opened.set_result(None)
            buf = buf[end + 4:]
        pos, size_all = 0, len(buf)
        while size_all - pos >= 2:
            first, size = buf[pos], buf[pos + 1] & 0x7F
            head = 2
            if size == 126:
                if size_all - pos < 4:
                    break
                size, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif size == 127:
                if size_all - pos < 10:
                    break
                size, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            if size_all - pos < head + size:
                break
            payload = buf[pos + head:pos + head + size]
            pos += head + size
            opcode = first & 0x0F
            if opcode == 0x1:
                self.on_text(payload, now)
            elif opcode == 0x9:
                self.transport.write(masked_frame(0xA, payload))
            elif opcode == 0x8:
                if not self.closed.done():
                    self.closed.set_result(int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005)
                self.transport.close()
        self.buffer = buf[pos:]

    def on_text(self, payload: bytes, now: float) -> None:
        at = payload.find(EVENT_ID)
        if at >= 0 and b'"type":"next"' in payload:
            start = at + len(EVENT_ID)
            self.received.append((int(payload[start:payload.index(b"}", start)]), now))
        elif b'"connection_ack"' in payload:
            if not self.acked.done():
                self.acked.set_result(None)
        elif b'"type":"ping"' in payload:
            self.send_text({"type": "pong"})
