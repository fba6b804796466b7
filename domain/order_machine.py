"""The order state machine, as data: allowed moves and the guards each must pass.

    >>> check_transition(OrderStatus.PAID, OrderStatus.ALLOCATED, MoveContext("ops", "graphql", ""))
    >>> check_transition(OrderStatus.SHIPPED, OrderStatus.PAID, MoveContext("ops", "graphql", ""))
    Traceback (most recent call last):
    domain.errors.IllegalTransition: cannot move an order from SHIPPED to PAID

Holds are not in this table: ``ON_HOLD`` is entered and left only through the
hold use cases, which remember the status to return to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.errors import IllegalTransition
from domain.statuses import OrderStatus as S


@dataclass(frozen=True, slots=True)
class MoveContext:
    """What a guard may look at besides the two statuses."""

    role: str
    source: str
    reason: str


Guard = Callable[[MoveContext], str | None]


def reason_given(ctx: MoveContext) -> str | None:
    return None if ctx.reason.strip() else "a reason is required"


def reported_by_carrier_or_channel(ctx: MoveContext) -> str | None:
    """Delivery is a fact only a carrier scan (or the channel's signed receipt) can state."""
    if ctx.source in {"carrier", "channel", "customer"}:
        return None
    return "delivery is reported by carrier tracking, the channel or the customer, not set by hand"


GUARDS: dict[str, Guard] = {
    "reason_given": reason_given,
    "reported_by_carrier_or_channel": reported_by_carrier_or_channel,
}

_CANCELLABLE = (S.PENDING_PAYMENT, S.DEPOSIT_PAID, S.PAID, S.ALLOCATED, S.PICKING, S.PACKED)

#: (from, to) -> names of guards in ``GUARDS`` that must all pass.
TRANSITIONS: dict[tuple[S, S], tuple[str, ...]] = {
    (S.PENDING_PAYMENT, S.DEPOSIT_PAID): (),
    (S.PENDING_PAYMENT, S.PAID): (),
    (S.DEPOSIT_PAID, S.PAID): (),
    (S.PAID, S.ALLOCATED): (),
    (S.ALLOCATED, S.PAID): ("reason_given",),
    (S.ALLOCATED, S.PICKING): (),
    (S.PICKING, S.PACKED): (),
    (S.PACKED, S.PARTIALLY_SHIPPED): (),
    (S.PACKED, S.SHIPPED): (),
    (S.PARTIALLY_SHIPPED, S.SHIPPED): (),
    (S.SHIPPED, S.DELIVERED): ("reported_by_carrier_or_channel",),
    (S.PARTIALLY_SHIPPED, S.DELIVERED): ("reported_by_carrier_or_channel",),
    (S.DELIVERED, S.COMPLETED): (),
    (S.SHIPPED, S.COMPLETED): ("reported_by_carrier_or_channel",),
    **{(status, S.CANCELLED): ("reason_given",) for status in _CANCELLABLE},
}


def allowed_targets(current: S) -> list[S]:
    """Statuses reachable from ``current`` in one move (guards not evaluated)."""
    return [to for (frm, to) in TRANSITIONS if frm == current]


def check_transition(current: S, target: S, ctx: MoveContext) -> None:
    """Raise ``IllegalTransition`` unless the move exists and every guard passes."""
    guards = TRANSITIONS.get((current, target))
    if guards is None:
        raise IllegalTransition(current, target)
    for name in guards:
        refusal = GUARDS[name](ctx)
        if refusal:
            raise IllegalTransition(current, target, refusal)


#: Statuses an order can be held in: nothing has left the warehouse yet.
HOLDABLE = frozenset(
    {
        S.PENDING_PAYMENT,
        S.DEPOSIT_PAID,
        S.PAID,
        S.ALLOCATED,
        S.PICKING,
        S.PACKED,
    }
)
