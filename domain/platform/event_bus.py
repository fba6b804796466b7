"""A server process reports its event-bus (Redis) connection down or back: ``system.bus_down``.

    await report_down(process_id, since)     # down for ORDERGRAPH_BUS_DOWN_AFTER_SECONDS already
    await report_back(process_id)            # reconnected and caught up (after the listener's back-fill)

Writing the alert needs only the database, which is up. Each process records its
state on its registry row (``ServerProcess.bus_down_since``); the alert is raised
(critical) while any live process is down and cleared when the last one is back.
Several processes raising it update the same alert per board. The leader's process
check calls ``clear_if_nobody_down`` too, so a process that died while down
does not keep the alert open.
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.alerts.kinds import AlertKind, Severity
from domain.alerts.platform import clear_on_every_board, open_incident, raise_on_every_board
from domain.unit_of_work import unit_of_work
from models import ServerProcess

SUBJECT = "bus"


async def report_down(process_id: int | None, since: datetime) -> None:
    """Raise (or update) the incident: this process has not reached Redis since ``since``."""
    async with unit_of_work():
        await _lock_running()  # processes reporting at the same moment take turns, so the count is right
        if process_id is not None:
            await ServerProcess.filter(id=process_id, bus_down_since__isnull=True).update(bus_down_since=since)
        down = await ServerProcess.filter(stopped_at__isnull=True, bus_down_since__isnull=False).order_by("bus_down_since")
        first = min([since, *(p.bus_down_since for p in down if p.bus_down_since is not None)])
        count = max(len(down), 1)
        message = (f"The event bus (Redis) is unreachable since {first.astimezone(UTC):%H:%M:%S} UTC from "
                   f"{count} server process{'es' if count != 1 else ''}: live subscriptions and partner webhooks "
                   f"wait; nothing is lost, they catch up when it is back.")
        await raise_on_every_board(AlertKind.BUS_DOWN, subject=SUBJECT, severity=Severity.CRITICAL, message=message,
                                   details={"since": first.isoformat(), "processes": [f"{p.host}:{p.pid}" for p in down]})


async def report_back(process_id: int | None) -> int:
    """This process reached Redis again and caught up; clear the incident if no live process is still down."""
    async with unit_of_work():
        running = await _lock_running()
        if process_id is not None:
            await ServerProcess.filter(id=process_id).update(bus_down_since=None)
        return await clear_if_nobody_down([p.bus_down_since for p in running if p.id != process_id])


async def _lock_running() -> list[ServerProcess]:
    return await ServerProcess.filter(stopped_at__isnull=True).order_by("id").select_for_update()


async def clear_if_nobody_down(down_since: list[datetime | None]) -> int:
    """Clear the open incident when none of these live processes reports the bus down (call in a transaction)."""
    if any(since is not None for since in down_since):
        return 0
    if await open_incident(AlertKind.BUS_DOWN, subject=SUBJECT) is None:
        return 0
    return await clear_on_every_board(AlertKind.BUS_DOWN, subject=SUBJECT,
                                      reason="the event bus (Redis) is back and the live feeds caught up")
