"""The registry of server processes, and the leader's check that notices one killed without a goodbye.

    me = await register("web-1", 4242)                 # at start-up
    await heartbeat(me)                                # every ORDERGRAPH_HEARTBEAT_SECONDS
    await check(timedelta(seconds=5))                  # the leader, every heartbeat interval
    await goodbye(me)                                  # on a clean shutdown

A process whose newest heartbeat is older than ``LOST_AFTER_BEATS`` intervals and
that never said goodbye is marked lost and ``system.process_lost`` is raised on
every board, naming host:pid, when it was last seen and how many processes are
alive now. The alert is cleared once as many processes are alive as before the
loss (a supervisor restarted the worker), or once a process started after the
lost one's last heartbeat (a replacement: the moment of death is known only to
within one interval, so a process started in that last interval counts as one
too, never as a witness). The check clears before it looks for
new losses, so a raised alert stays on the board for at least one check. A
process marked lost that heartbeats again (a long pause, not a death) is alive
again. Rows stopped more than ``KEEP`` ago are pruned.

Heartbeats and checks use each host's clock: hosts must keep time (NTP).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.alerts.kinds import AlertKind, Severity
from domain.alerts.platform import clear_on_every_board, open_incident, raise_on_every_board
from domain.platform.event_bus import clear_if_nobody_down
from domain.unit_of_work import unit_of_work
from models import ServerProcess

LOST_AFTER_BEATS = 3
KEEP = timedelta(days=1)
SUBJECT = "process"
SHUTDOWN = "shutdown"
LOST = "lost"


@dataclass(frozen=True)
class CheckResult:
    lost: list[str]  # host:pid of the processes found lost by this check
    alive: int
    cleared: int  # alerts cleared because the lost processes were replaced


async def register(host: str, pid: int) -> int:
    """Put this process in the registry; returns its id for heartbeats and the goodbye."""
    now = datetime.now(UTC)
    row = await ServerProcess.create(host=host[:255], pid=pid, started_at=now, last_seen=now)
    return row.id


async def heartbeat(process_id: int) -> bool:
    """Say "still here"; a process marked lost by mistake is alive again. False if its row is gone."""
    now = datetime.now(UTC)
    beat = await ServerProcess.filter(id=process_id, stopped_at__isnull=True).update(last_seen=now)
    if beat:
        return True
    return bool(await ServerProcess.filter(id=process_id, stopped_how=LOST).update(
        last_seen=now, stopped_at=None, stopped_how=""))


async def goodbye(process_id: int) -> None:
    """A clean shutdown: never reported lost."""
    await ServerProcess.filter(id=process_id, stopped_at__isnull=True).update(
        stopped_at=datetime.now(UTC), stopped_how=SHUTDOWN, bus_down_since=None)


async def check(interval: timedelta, *, find_lost: bool = True) -> CheckResult:
    """The leader's round: clear a replaced loss, mark and raise new losses, prune old rows.

    ``find_lost=False`` on a leader's first round (or after a database outage): processes
    could not heartbeat meanwhile, so nobody is judged before they had an interval to.
    """
    now = datetime.now(UTC)
    async with unit_of_work():
        running = await ServerProcess.filter(stopped_at__isnull=True).order_by("id").select_for_update()
        stale = [p for p in running if p.last_seen < now - LOST_AFTER_BEATS * interval] if find_lost else []
        alive = [p for p in running if p not in stale]
        cleared = await _clear_if_replaced(alive)
        if stale:
            await _mark_lost(stale, alive, running, now)
        await clear_if_nobody_down([p.bus_down_since for p in alive])
        await ServerProcess.filter(stopped_at__lt=now - KEEP).delete()
    return CheckResult(lost=[_name(p) for p in stale], alive=len(alive), cleared=cleared)


async def _clear_if_replaced(alive: list[ServerProcess]) -> int:
    incident = await open_incident(AlertKind.PROCESS_LOST, subject=SUBJECT)
    if incident is None:
        return 0
    lost_last_seen = max(datetime.fromisoformat(p["last_seen"]) for p in incident.get("lost", [])) \
        if incident.get("lost") else None
    replaced = lost_last_seen is not None and any(p.started_at > lost_last_seen for p in alive)
    if len(alive) < incident.get("alive_before", 0) and not replaced:
        return 0
    return await clear_on_every_board(AlertKind.PROCESS_LOST, subject=SUBJECT,
                                      reason=f"{_processes(len(alive))} alive again")


async def _mark_lost(stale: list[ServerProcess], alive: list[ServerProcess], running: list[ServerProcess],
                     now: datetime) -> None:
    for process in stale:
        process.stopped_at, process.stopped_how, process.bus_down_since = now, LOST, None
        await process.save(update_fields=["stopped_at", "stopped_how", "bus_down_since"])
    incident = await open_incident(AlertKind.PROCESS_LOST, subject=SUBJECT) or {}
    lost = [*incident.get("lost", []),
            *({"host": p.host, "pid": p.pid, "last_seen": p.last_seen.isoformat()} for p in stale)]
    lost_at = max(p.last_seen for p in stale)  # a process started after this is a replacement, not a witness
    alive_before = incident.get("alive_before", sum(1 for p in running if p.started_at <= lost_at))
    names = ", ".join(f"{p['host']}:{p['pid']} (last seen {_clock(p['last_seen'])} UTC)" for p in lost)
    message = (f"Server process{'es' if len(lost) > 1 else ''} {names} stopped without shutting down; "
               f"{_processes(len(alive))} alive now ({alive_before} before the loss).")
    await raise_on_every_board(AlertKind.PROCESS_LOST, subject=SUBJECT, severity=Severity.WARNING, message=message,
                               details={"lost": lost, "alive_before": alive_before, "alive": len(alive)})


def _processes(count: int) -> str:
    return f"{count} server process{'' if count == 1 else 'es'}"


def _name(process: ServerProcess) -> str:
    return f"{process.host}:{process.pid}"


def _clock(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%H:%M:%S")
