"""Noticing that a WMS or ERP is down, and that it is back, from the calls OrderGraph makes to it.

    await note_call(tenant_id, connection, trace)    # evidence.keep does it for every outgoing call it keeps

Every call OrderGraph makes on its own to a WMS or ERP (delivery pushes and
cancellations, federated reads, the drift check, reconciliation) leaves its
round trips in a trace that ``evidence.keep`` stores; this module reads the
trace's last round trip. No answer (refused connection, timeout, an open
circuit) or an HTTP 5xx is a *transport failure*; any other answer — a
business refusal included — means the system is reachable.

``FAILED_CALLS`` failed calls in a row, or failures for longer than
``FAILING_FOR``, put one ``system.unreachable`` alert (critical, subject the
connection's code) on the board, saying since when, the last error and how
many delivery orders wait on the system; it is kept current in place. The
next call that reaches the system clears it (``system:auto``) and makes the
delivery orders that failed meanwhile due at once, so they do not sit out the
rest of their backoff. While a WMS fails, the pusher asks it something
harmless every few seconds (``wms_probe``), so the alert appears and clears
within seconds of the outage's start and end even when nothing else calls.

Streaks are counted per process (a call is seen by the process that made
it); the alert itself is one row, raised under a lock on the connection row.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.alerts.kinds import AlertKind, Severity
from domain.alerts.raising import clear_alerts, raise_alert
from domain.federation import delivery_orders as rows_of
from domain.federation.ports import Exchange
from domain.unit_of_work import unit_of_work
from events import signals
from models import DeliveryOrder, SystemConnection

#: Failed calls in a row that make a system unreachable …
FAILED_CALLS = 2
#: … or how long failures may last before they do, whichever comes first.
FAILING_FOR = timedelta(seconds=10)
#: An alert whose facts changed is brought up to date at most this often (seconds): no lineage row per call.
REFRESH = 10.0
#: Without a failure seen here, a reachable system's board is checked at most this often (seconds) per process.
CHECK_EVERY = 10.0
ACTOR = "ordergraph"
WAITING = (rows_of.PENDING, rows_of.CANCEL_PENDING)


@dataclass(slots=True)
class Streak:
    """Failed calls to one connection in a row, as this process saw them."""

    tenant_id: int
    connection_id: int
    created_at: datetime | None     # the connection's: with its id, which connection this is
    since: datetime
    calls: int = 0
    last_error: str = ""
    last_call: float = 0.0          # time.monotonic() of the latest failed call
    alerted: str = ""               # the message last put on the board
    alerted_at: float = 0.0


_streaks: dict[tuple[int, datetime | None], Streak] = {}
_checked: dict[tuple[int, datetime | None], float] = {}


def _key(connection: SystemConnection) -> tuple[int, datetime | None]:
    """The connection's id and creation time: a re-created database's connection 1 is another system."""
    return connection.id, connection.created_at


def transport_failure(trace: Sequence[Exchange]) -> str | None:
    """The error when the call's last outgoing round trip got no answer or a 5xx; None when it was answered."""
    outgoing = [exchange for exchange in trace if exchange.direction == "out"]
    if not outgoing:
        return None
    last = outgoing[-1]
    if last.outcome in ("timeout", "unreachable") or last.status_code is None or last.status_code >= 500:
        return last.error or last.outcome
    return None


def failing() -> list[Streak]:
    """The connections this process currently sees failing (the pusher probes the WMSs among them)."""
    return list(_streaks.values())


def forget() -> None:
    """Drop every streak (tests that start a fresh database)."""
    _streaks.clear()
    _checked.clear()


async def note_call(tenant_id: int, connection: SystemConnection | None, trace: Sequence[Exchange], *,
                    now: datetime | None = None) -> None:
    """Count one call to ``connection`` (see the module docstring); nothing when no round trip went out."""
    if connection is None or not any(exchange.direction == "out" for exchange in trace):
        return
    error = transport_failure(trace)
    if error is None:
        await _reached(tenant_id, connection)
    else:
        await _failed(tenant_id, connection, error, now or datetime.now(UTC))


async def _failed(tenant_id: int, connection: SystemConnection, error: str, now: datetime) -> None:
    streak = _streaks.setdefault(_key(connection), Streak(tenant_id, connection.id, connection.created_at, since=now))
    streak.calls += 1
    streak.last_error = error
    streak.last_call = time.monotonic()
    if streak.calls < FAILED_CALLS and now - streak.since <= FAILING_FOR:
        return
    waiting = await DeliveryOrder.filter(connection_id=connection.id, status__in=WAITING).count() \
        if connection.kind == "wms" else 0
    message = _message(connection, streak, waiting)
    if message == streak.alerted or (streak.alerted and time.monotonic() - streak.alerted_at < REFRESH):
        return
    async with unit_of_work():
        # One raiser at a time. NO KEY UPDATE: the exchanges just stored hold KEY SHARE on this row (their
        # foreign key), and FOR UPDATE would deadlock two failing pushes against each other.
        await SystemConnection.filter(id=connection.id).select_for_update(no_key=True).first()
        await raise_alert(
            tenant_id=tenant_id, kind=AlertKind.SYSTEM_UNREACHABLE, severity=Severity.CRITICAL,
            subject=connection.code, message=message, actor=ACTOR, source=connection.kind,
            details={"connection": connection.code, "system": connection.kind, "since": streak.since.isoformat(),
                     "last_error": error[:500], "waiting": waiting})
    streak.alerted, streak.alerted_at = message, time.monotonic()


def _message(connection: SystemConnection, streak: Streak, waiting: int) -> str:
    """``WMS wms-sh (Shanghai WMS) unreachable since 14:02:05 UTC: HTTP 503; 12 delivery orders waiting``."""
    name = f" ({connection.name})" if connection.name else ""
    text = (f"{connection.kind.upper()} {connection.code}{name} unreachable since {streak.since:%H:%M:%S} UTC: "
            f"{streak.last_error}")
    if waiting:
        text += f"; {waiting} delivery order{'s' if waiting != 1 else ''} waiting"
    return text


async def _reached(tenant_id: int, connection: SystemConnection) -> None:
    key = _key(connection)
    streak = _streaks.pop(key, None)
    if streak is None and time.monotonic() - _checked.get(key, 0.0) < CHECK_EVERY:
        return
    _checked[key] = time.monotonic()
    now = datetime.now(UTC)
    async with unit_of_work():
        cleared = await clear_alerts(tenant_id=tenant_id, kind=AlertKind.SYSTEM_UNREACHABLE, subject=connection.code,
                                     actor=ACTOR, reason=f"{connection.kind.upper()} {connection.code} answered again")
        if (streak is None and not cleared) or connection.kind != "wms":
            return
        due = await DeliveryOrder.filter(connection_id=connection.id, status__in=WAITING, attempts__gt=0,
                                         next_attempt_at__gt=now).exclude(last_error="").update(next_attempt_at=now)
    if due:
        signals.ring(rows_of.WMS_PUSH)
