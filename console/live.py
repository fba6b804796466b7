"""Live updates for the exception board: a server-sent event stream saying "the board changed".

    GET /console/board/live      text/event-stream: ``event: changed`` after any alert of the tenant changes

The board's tiny self-hosted script (``static/live.js``) listens with
``EventSource`` and reloads the list; without it the board still shows when
it was drawn and a refresh link. The stream reads the app's bus, like the
public tracking page does, keeps only ``alert.*`` events of the person's
tenant, coalesces bursts and ends after a while (the browser reconnects).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from console.pages import signed_in
from console.site import Console
from models import ConsoleSession

HEARTBEAT = 20.0
MAX_STREAM = 15 * 60.0
COALESCE = 0.3


def relevant(message: dict[str, Any], tenant_id: int) -> bool:
    return message.get("tenant_id") == tenant_id and str(message.get("type", "")).startswith("alert.")


async def changes(bus: Any, tenant_id: int, *, max_seconds: float = MAX_STREAM) -> AsyncIterator[str]:
    """The stream body: a retry hint, then one ``changed`` event per burst of the tenant's alert changes."""
    async with bus.subscribe() as subscription:
        yield "retry: 5000\n\n"
        ends = time.monotonic() + max_seconds
        while time.monotonic() < ends:
            try:
                message = await asyncio.wait_for(anext(subscription), timeout=HEARTBEAT)
            except TimeoutError:
                yield ": ping\n\n"
                continue
            except Exception:  # a slow subscriber or a closed bus: the browser reconnects
                return
            hit = relevant(message, tenant_id)
            while True:  # let the rest of a burst arrive
                try:
                    hit = relevant(await asyncio.wait_for(anext(subscription), timeout=COALESCE), tenant_id) or hit
                except Exception:
                    break
            if hit:
                yield f"event: changed\ndata: {int(time.time())}\n\n"


@signed_in
async def board_live(console: Console, request: Request, session: ConsoleSession) -> Response:
    tenant_id = console.actor(session).tenant_id
    response = StreamingResponse(changes(console.client.bus, tenant_id), media_type="text/event-stream",
                                 headers={"x-accel-buffering": "no"})
    return console.finish(request, response)
