"""The after-sale state machine, as data: which moves each kind of after-sale allows.

    >>> check_move("refund_only", AfterSaleStatus.APPROVED, AfterSaleStatus.REFUNDED)
    >>> check_move("refund_only", AfterSaleStatus.APPROVED, AfterSaleStatus.AWAITING_RETURN)
    Traceback (most recent call last):
    domain.after_sales.machine.IllegalAfterSaleMove: cannot move a refund_only after-sale from APPROVED to AWAITING_RETURN

The paths (DESIGN.md's after-sale dimension):

- refund_only:   REQUESTED → APPROVED → REFUNDED → CLOSED
- return_refund: REQUESTED → APPROVED → AWAITING_RETURN → RECEIVED → REFUNDED → CLOSED
- exchange:      REQUESTED → APPROVED → AWAITING_RETURN → RECEIVED → EXCHANGED → CLOSED
- any kind:      REQUESTED → REJECTED → CLOSED, and the buyer withdrawing (REQUESTED, APPROVED or
  AWAITING_RETURN → CLOSED, with a reason).

Goods that came back cannot be "un-received": once RECEIVED the only ways on
are the refund (or the replacement) and then CLOSED.
"""

from __future__ import annotations

from enum import StrEnum

from domain.errors import DomainError, ValidationFailed
from domain.statuses import AfterSaleStatus as S


class Kind(StrEnum):
    REFUND_ONLY = "refund_only"
    RETURN_REFUND = "return_refund"
    EXCHANGE = "exchange"


class Source(StrEnum):
    GRAPHQL = "graphql"
    CHANNEL = "channel"
    CUSTOMER = "customer"


class IllegalAfterSaleMove(DomainError):
    """The after-sale machine has no such move for this kind (code ``ILLEGAL_TRANSITION``)."""

    code = "ILLEGAL_TRANSITION"

    def __init__(self, kind: str, from_status: str, to_status: str, why: str = "") -> None:
        detail = f": {why}" if why else ""
        super().__init__(f"cannot move a {kind} after-sale from {from_status} to {to_status}{detail}", field="status")
        self.kind = kind
        self.from_status = from_status
        self.to_status = to_status


#: Statuses in which the request is still being worked on (it covers its units and its money).
OPEN = frozenset({S.REQUESTED, S.APPROVED, S.AWAITING_RETURN, S.RECEIVED})
#: Statuses the buyer may withdraw from (nothing came back yet).
WITHDRAWABLE = frozenset({S.REQUESTED, S.APPROVED, S.AWAITING_RETURN})
#: Kinds whose goods come back to a warehouse.
RETURNING_KINDS = frozenset({Kind.RETURN_REFUND, Kind.EXCHANGE})
#: Kinds that end with money going back to the buyer.
REFUNDING_KINDS = frozenset({Kind.REFUND_ONLY, Kind.RETURN_REFUND})

_COMMON: frozenset[tuple[S, S]] = frozenset({
    (S.REQUESTED, S.APPROVED),
    (S.REQUESTED, S.REJECTED),
    (S.REJECTED, S.CLOSED),
    *((status, S.CLOSED) for status in WITHDRAWABLE),
})

#: kind -> every allowed (from, to).
MOVES: dict[Kind, frozenset[tuple[S, S]]] = {
    Kind.REFUND_ONLY: _COMMON | {(S.APPROVED, S.REFUNDED), (S.REFUNDED, S.CLOSED)},
    Kind.RETURN_REFUND: _COMMON | {(S.APPROVED, S.AWAITING_RETURN), (S.AWAITING_RETURN, S.RECEIVED),
                                   (S.RECEIVED, S.REFUNDED), (S.REFUNDED, S.CLOSED)},
    Kind.EXCHANGE: _COMMON | {(S.APPROVED, S.AWAITING_RETURN), (S.AWAITING_RETURN, S.RECEIVED),
                              (S.RECEIVED, S.EXCHANGED), (S.EXCHANGED, S.CLOSED)},
}

#: The forward path of each kind, for "how far along" questions (REJECTED and CLOSED are off it).
PATHS: dict[Kind, tuple[S, ...]] = {
    Kind.REFUND_ONLY: (S.REQUESTED, S.APPROVED, S.REFUNDED),
    Kind.RETURN_REFUND: (S.REQUESTED, S.APPROVED, S.AWAITING_RETURN, S.RECEIVED, S.REFUNDED),
    Kind.EXCHANGE: (S.REQUESTED, S.APPROVED, S.AWAITING_RETURN, S.RECEIVED, S.EXCHANGED),
}


def kind_of(value: str) -> Kind:
    """The kind named ``value``; ``ValidationFailed`` naming the three otherwise."""
    try:
        return Kind(value)
    except ValueError:
        raise ValidationFailed(f"kind must be refund_only, return_refund or exchange, got {value[:40]!r}",
                               field="kind") from None


def allowed(kind: str, current: str, target: str) -> bool:
    return (S(current), S(target)) in MOVES[Kind(kind)]


def check_move(kind: str, current: str, target: str, *, why: str = "") -> None:
    """Raise :class:`IllegalAfterSaleMove` unless the kind allows ``current → target``."""
    if not allowed(kind, current, target):
        raise IllegalAfterSaleMove(kind, current, target, why)


def allowed_targets(kind: str, current: str) -> list[S]:
    """Statuses reachable in one move (in the path's order, REJECTED and CLOSED last)."""
    order = [*PATHS[Kind(kind)], S.REJECTED, S.CLOSED]
    return [target for target in order if (S(current), target) in MOVES[Kind(kind)]]


def path_to(kind: str, current: str, target: str) -> list[S]:
    """The forward steps from ``current`` up to ``target`` along the kind's path ([] when not ahead on it)."""
    path = PATHS[Kind(kind)]
    if S(current) not in path or S(target) not in path:
        return []
    start, end = path.index(S(current)), path.index(S(target))
    return list(path[start + 1:end + 1]) if end > start else []
