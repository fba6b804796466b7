"""The exception board's moves: a person acknowledges, assigns, snoozes, resolves or reopens an alert.

    await acknowledge(actor, alert_id, note="looking at it")
    await assign(actor, alert_id, "Wang Fang")            # an open alert is acknowledged by the assigning
    await snooze(actor, alert_id, now + timedelta(hours=2))
    await resolve(actor, alert_id, "address fixed with the buyer by phone; re-pushed to the WMS")
    await reopen(actor, alert_id, "the WMS refused it again")
    await wake_snoozed()                                  # the leader's job: snoozes that ran out

Which move is allowed from which state is the table ``MOVES`` (data, not
if-chains); anything else is refused with ``AlertMoveRefused``
(code ``ILLEGAL_TRANSITION``). Each move is one transaction that locks the
alert, checks, writes and appends a lineage row through ``raising.record``
(so notifications and subscriptions see it, and the order's lineage shows it).
Only ops and admins act on the board; every role may read it.

Decisions:
- assigning an OPEN alert also acknowledges it: whoever hands a problem to a
  person has seen it (its time to acknowledge stops there);
- resolving an alert nobody acknowledged acknowledges it at the same moment;
- a resolution text is required: it is the knowledge base the board searches;
- a snooze does not stop the SLA clock (``due_at``): a snoozed alert past it is
  still overdue; waking returns it to ACKNOWLEDGED if someone had, else OPEN;
- reopening starts a new cycle: a new SLA clock, the acknowledgement cleared
  (the old one stays in the lineage), the owner and last resolution kept.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.actor import Actor, Role
from domain.alerts.kinds import AlertState, sla_for
from domain.alerts.raising import record
from domain.errors import DomainError, Forbidden, NotFound, ValidationFailed
from domain.unit_of_work import unit_of_work
from models import Alert

#: Roles that act on the board (everyone else may read it).
BOARD_ROLES = frozenset({Role.ADMIN, Role.OPS})
MAX_SNOOZE = timedelta(days=7)
MAX_TEXT = 2000
MAX_OWNER = 100
#: Who lineage names for a snooze that ran out.
WAKER = "system:snooze"
#: Alerts woken per transaction of ``wake_snoozed``.
WAKE_BATCH = 200


class Move(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    SNOOZE = "snooze"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    WAKE = "wake"


#: The state an alert keeps (for ASSIGN of an acknowledged or snoozed one).
SAME = None
#: (from state, move) -> the state after it; a pair not listed is refused. WAKE's target is decided on waking.
MOVES: dict[tuple[AlertState, Move], AlertState | None] = {
    (AlertState.OPEN, Move.ACKNOWLEDGE): AlertState.ACKNOWLEDGED,
    (AlertState.OPEN, Move.ASSIGN): AlertState.ACKNOWLEDGED,
    (AlertState.OPEN, Move.SNOOZE): AlertState.SNOOZED,
    (AlertState.OPEN, Move.RESOLVE): AlertState.RESOLVED,
    (AlertState.ACKNOWLEDGED, Move.ASSIGN): SAME,
    (AlertState.ACKNOWLEDGED, Move.SNOOZE): AlertState.SNOOZED,
    (AlertState.ACKNOWLEDGED, Move.RESOLVE): AlertState.RESOLVED,
    (AlertState.SNOOZED, Move.ACKNOWLEDGE): AlertState.ACKNOWLEDGED,  # ends the snooze early
    (AlertState.SNOOZED, Move.ASSIGN): SAME,
    (AlertState.SNOOZED, Move.SNOOZE): AlertState.SNOOZED,  # a new wake-up time
    (AlertState.SNOOZED, Move.RESOLVE): AlertState.RESOLVED,
    (AlertState.SNOOZED, Move.WAKE): SAME,
    (AlertState.RESOLVED, Move.REOPEN): AlertState.OPEN,
}

#: Every lineage type an alert's life writes (raising and the board), for subscribers.
ALERT_EVENTS = frozenset({
    "alert.raised", "alert.updated", "alert.reopened", "alert.cleared", "alert.acknowledged", "alert.assigned",
    "alert.snoozed", "alert.snooze_ended", "alert.resolved",
})


class AlertMoveRefused(DomainError):
    """The board has no such move from the alert's state (acknowledging twice, snoozing a resolved one…)."""

    code = "ILLEGAL_TRANSITION"

    def __init__(self, state: str, move: Move) -> None:
        allowed = sorted(m.value for (s, m) in MOVES if s == state and m != Move.WAKE)
        super().__init__(f"cannot {move.value} an alert that is {state}; allowed: {', '.join(allowed) or 'nothing'}",
                         field="state")
        self.state = state
        self.move = move


def target_of(state: str, move: Move) -> AlertState:
    """The state after ``move`` (raises ``AlertMoveRefused`` if the table has no such move)."""
    current = AlertState(state)
    if (current, move) not in MOVES:
        raise AlertMoveRefused(current, move)
    target = MOVES[(current, move)]
    return current if target is SAME else target


def require_board_role(actor: Actor) -> None:
    if actor.role not in BOARD_ROLES:
        raise Forbidden(f"role {actor.role} may not act on alerts; an ops or admin key may")


def _text(value: str | None, field: str, what: str, *, limit: int = MAX_TEXT, required: bool = True) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise ValidationFailed(f"give {what}", field=field)
    if len(cleaned) > limit:
        raise ValidationFailed(f"{what} is longer than {limit} characters", field=field)
    return cleaned


async def _locked(actor: Actor, alert_id: int) -> Alert:
    alert = await Alert.filter(id=alert_id, tenant_id=actor.tenant_id).select_for_update().first()
    if alert is None:
        raise NotFound("no such alert", field="id")
    return alert


def _before(alert: Alert) -> dict[str, Any]:
    return {"state": alert.state, "owner": alert.owner, "snoozed_until": _iso(alert.snoozed_until),
            "acknowledged_by": alert.acknowledged_by, "resolution": alert.resolution or None}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _acknowledge(alert: Alert, actor: Actor, now: datetime) -> None:
    """The first acknowledgement counts (for time to acknowledge); later ones are in the lineage."""
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, actor.name[:100]


async def acknowledge(actor: Actor, alert_id: int, note: str = "") -> Alert:
    """Someone has seen it and is on it: OPEN (or SNOOZED) -> ACKNOWLEDGED."""
    require_board_role(actor)
    note = _text(note, "note", "a note", required=False)
    async with unit_of_work():
        alert = await _locked(actor, alert_id)
        target = target_of(alert.state, Move.ACKNOWLEDGE)
        before, now = _before(alert), datetime.now(UTC)
        _acknowledge(alert, actor, now)
        alert.state, alert.snoozed_until, alert.updated_at = target, None, now
        await alert.save()
        await record(alert, "alert.acknowledged", actor=actor.name, source=actor.source,
                     reason=note or f"acknowledged by {actor.name}", before=before)
    return alert


async def assign(actor: Actor, alert_id: int, owner: str) -> Alert:
    """Give the alert to a person (a name or a team label); an OPEN one becomes ACKNOWLEDGED."""
    require_board_role(actor)
    owner = _text(owner, "owner", "the owner's name", limit=MAX_OWNER)
    async with unit_of_work():
        alert = await _locked(actor, alert_id)
        target = target_of(alert.state, Move.ASSIGN)
        before, now = _before(alert), datetime.now(UTC)
        if target == AlertState.ACKNOWLEDGED:
            _acknowledge(alert, actor, now)
        alert.owner, alert.state, alert.updated_at = owner, target, now
        await alert.save()
        await record(alert, "alert.assigned", actor=actor.name, source=actor.source,
                     reason=f"assigned to {owner}", before=before)
    return alert


def check_snooze_time(until: datetime, now: datetime) -> datetime:
    """A wake-up time with its UTC offset, in the future and at most ``MAX_SNOOZE`` away."""
    if until.tzinfo is None:
        raise ValidationFailed("give the wake-up time with its UTC offset (e.g. 2026-11-22T10:00:00+08:00)", field="until")
    if until <= now:
        raise ValidationFailed("the wake-up time must be in the future", field="until")
    if until - now > MAX_SNOOZE:
        raise ValidationFailed(f"an alert may be snoozed for at most {MAX_SNOOZE.days} days", field="until")
    return until.astimezone(UTC)


async def snooze(actor: Actor, alert_id: int, until: datetime) -> Alert:
    """Hide the alert until ``until`` (future, at most 7 days); ``wake_snoozed`` brings it back."""
    require_board_role(actor)
    now = datetime.now(UTC)
    until = check_snooze_time(until, now)
    async with unit_of_work():
        alert = await _locked(actor, alert_id)
        target = target_of(alert.state, Move.SNOOZE)
        before = _before(alert)
        alert.state, alert.snoozed_until, alert.updated_at = target, until, now
        await alert.save()
        await record(alert, "alert.snoozed", actor=actor.name, source=actor.source,
                     reason=f"snoozed until {until.isoformat()}", before=before)
    return alert


async def resolve(actor: Actor, alert_id: int, resolution: str) -> Alert:
    """Close the alert with what was done about it (required: the board's knowledge base)."""
    require_board_role(actor)
    resolution = _text(resolution, "resolution", "the resolution: what was done about it")
    async with unit_of_work():
        alert = await _locked(actor, alert_id)
        target = target_of(alert.state, Move.RESOLVE)
        before, now = _before(alert), datetime.now(UTC)
        _acknowledge(alert, actor, now)
        alert.state, alert.cleared_at, alert.updated_at, alert.snoozed_until = target, now, now, None
        alert.resolution, alert.resolved_by = resolution, actor.name[:100]
        await alert.save()
        await record(alert, "alert.resolved", actor=actor.name, source=actor.source, reason=resolution, before=before)
    return alert


async def reopen(actor: Actor, alert_id: int, reason: str) -> Alert:
    """The problem is not over after all: RESOLVED -> OPEN, with a new SLA clock."""
    require_board_role(actor)
    reason = _text(reason, "reason", "the reason to reopen", limit=500)
    async with unit_of_work():
        alert = await _locked(actor, alert_id)
        target = target_of(alert.state, Move.REOPEN)
        before, now = _before(alert), datetime.now(UTC)
        alert.state, alert.cleared_at, alert.resolved_by, alert.reopened = target, None, None, alert.reopened + 1
        alert.acknowledged_at = alert.acknowledged_by = None
        alert.due_at, alert.updated_at = now + sla_for(alert.severity), now
        await alert.save()
        await record(alert, "alert.reopened", actor=actor.name, source=actor.source, reason=reason, before=before)
    return alert


async def wake_snoozed(now: datetime | None = None, *, batch: int = WAKE_BATCH) -> int:
    """Snoozed alerts whose time has come go back on the board (every tenant); returns how many woke."""
    now = now or datetime.now(UTC)
    woken = 0
    while True:
        async with unit_of_work():
            rows = await Alert.filter(state=AlertState.SNOOZED, snoozed_until__lte=now).order_by("id") \
                .limit(batch).select_for_update()
            for alert in rows:
                target_of(alert.state, Move.WAKE)
                before = _before(alert)
                alert.state = AlertState.ACKNOWLEDGED if alert.acknowledged_at else AlertState.OPEN
                alert.snoozed_until, alert.updated_at = None, now
                await alert.save(update_fields=["state", "snoozed_until", "updated_at"])
                await record(alert, "alert.snooze_ended", actor=WAKER, before=before,
                             reason=f"the snooze ended: {alert.message}")
        woken += len(rows)
        if len(rows) < batch:
            return woken
