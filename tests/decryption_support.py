"""The receiver-decryption simulator behind real uvicorn, for tests that talk to it over HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from adapters.channels.decryption import aclose
from adapters.channels.decryption.simulator import DecryptSimulator
from tests.live_fixtures import serve_asgi

#: Receivers the tests seal; no test asserts on anything but these exact strings.
PEOPLE = [
    ("张伟", "13800138001", "文三路 100 号 5 幢 301 室"),
    ("王芳", "13900139002", "南京西路 1266 号恒隆广场 2 座"),
    ("李娜", "13700137003", "科技园南区深南大道 9988 号"),
]


@dataclass
class RunningSimulator:
    sim: DecryptSimulator
    base_url: str


@contextlib.asynccontextmanager
async def running_simulator(**options: object) -> AsyncIterator[RunningSimulator]:
    """A fresh simulator on a free port; the shared decryption clients of this loop are closed afterwards."""
    sim = DecryptSimulator(**options)  # type: ignore[arg-type]
    try:
        async with serve_asgi(sim.app) as base_url:
            yield RunningSimulator(sim, base_url)
    finally:
        await aclose()
