"""Where stock levels change: a ledger row plus ONE conditional atomic UPDATE.

(New reservations on PostgreSQL take the one-statement path in
``reservation_statement``, which writes the same ledger row under the same
WHERE clause.)

The UPDATE carries the invariants in its WHERE clause (``reserved >= 0`` and
``on_hand >= reserved`` after the change), so no interleaving of concurrent
transactions can promise a unit twice: the loser's UPDATE matches no row and
the caller's typed error rolls its transaction back. It returns the new
levels (``RETURNING``), so nothing is read-checked-written across an await.

Call inside ``unit_of_work``. The ledger row is inserted *before* the UPDATE
so that the hot stock row stays locked for as short a time as possible.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from tortoise import connections

from domain.actor import Actor
from domain.errors import DomainError
from domain.stock import low_stock
from events import log
from models import Quarantine, Stock


class MovementKind(StrEnum):
    OPENING_STOCK = "OPENING_STOCK"  # the first count of a (warehouse, SKU) when a merchant starts on OrderGraph
    RECEIPT = "RECEIPT"
    ADJUSTMENT = "ADJUSTMENT"
    COUNT_SYNC = "COUNT_SYNC"
    RESERVE = "RESERVE"
    RELEASE = "RELEASE"
    SHIP = "SHIP"
    RETURN_TO_QUARANTINE = "RETURN_TO_QUARANTINE"
    QUARANTINE_ACCEPT = "QUARANTINE_ACCEPT"
    QUARANTINE_SCRAP = "QUARANTINE_SCRAP"


@dataclass(frozen=True, slots=True)
class Cause:
    """Who moves stock, why, and for which order line: copied onto the ledger row."""

    actor: Actor
    reason: str = ""
    order_id: int | None = None
    line_id: int | None = None
    reservation_id: int | None = None


@dataclass(frozen=True, slots=True)
class Levels:
    on_hand: int
    reserved: int
    safety: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


_LEVELS_SQL = (
    'UPDATE "stock" SET "on_hand" = "on_hand" + :dh, "reserved" = "reserved" + :dr, "updated_at" = :now '
    'WHERE "id" = :id AND "on_hand" + :dh >= "reserved" + :dr AND "reserved" + :dr >= 0 '
    'RETURNING "on_hand", "reserved", "safety", (SELECT "low_stock_factor" FROM "sku_stock_policy" '
    'WHERE "sku_stock_policy"."tenant_id" = "stock"."tenant_id" AND "sku_stock_policy"."sku" = "stock"."sku") AS "factor"'
)
_MOVEMENT_SQL = (
    'INSERT INTO "stock_movement" ("tenant_id", "stock_id", "warehouse_id", "sku", "kind", "on_hand_delta", '
    '"reserved_delta", "quarantine_delta", "order_id", "line_id", "reservation_id", "actor", "source", "reason", '
    '"created_at") VALUES (:tenant, :stock, :warehouse, :sku, :kind, :dh, :dr, :dq, :order, :line, :reservation, '
    ':actor, :source, :reason, :now)'
)
_QUARANTINE_SQL = (
    'UPDATE "stock_quarantine" SET "quantity" = "quantity" + :dq WHERE "id" = :id AND "quantity" + :dq >= 0 '
    'RETURNING "quantity"'
)
_NAME = re.compile(r":(\w+)")


def _bind(template: str, values: dict[str, object], postgres: bool) -> tuple[str, list[object]]:
    """Named parameters to the dialect's positional ones (``$n`` reused on PostgreSQL, ``?`` repeated on SQLite)."""
    order: list[str] = []

    def mark(match: re.Match[str]) -> str:
        name = match.group(1)
        if not postgres:
            order.append(name)
            return "?"
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    sql = _NAME.sub(mark, template)
    return sql, [values[name] for name in order]


async def _returning(template: str, values: dict[str, object]) -> dict | None:
    connection = connections.get("default")
    sql, params = _bind(template, values, connection.capabilities.dialect == "postgres")
    rows = await connection.execute_query_dict(sql, params)  # execute_query drops RETURNING rows of an UPDATE
    return rows[0] if rows else None


async def _execute(template: str, values: dict[str, object]) -> None:
    connection = connections.get("default")
    await connection.execute_query(*_bind(template, values, connection.capabilities.dialect == "postgres"))


async def change(
    stock: Stock,
    kind: MovementKind,
    cause: Cause,
    refusal: DomainError,
    *,
    on_hand: int = 0,
    reserved: int = 0,
    quarantine: int = 0,
) -> Levels | None:
    """Apply deltas to a stock row (and its quarantine) and record them as one ledger row.

    Raises ``refusal`` if the change would break an invariant; the caller's
    transaction then rolls back, ledger row included. Returns the new levels
    when on-hand or reserved changed.
    """
    await _record(stock, kind, cause, on_hand=on_hand, reserved=reserved, quarantine=quarantine)
    if quarantine:
        holder, _ = await Quarantine.get_or_create(stock_id=stock.id, defaults={"tenant_id": stock.tenant_id})  # type: ignore[attr-defined]
        if await _returning(_QUARANTINE_SQL, {"dq": quarantine, "id": holder.id}) is None:
            raise refusal
    if not (on_hand or reserved):
        return None
    row = await _levels(stock, on_hand, reserved, refusal)
    await low_stock.after_update(stock, cause.actor.name, **row, available_change=on_hand - reserved)
    return Levels(on_hand=row["on_hand"], reserved=row["reserved"], safety=row["safety"])


@dataclass(frozen=True, slots=True)
class Change:
    """One level change of ``change_all``: the deltas to a stock row, why, and the error if it cannot be met."""

    stock: Stock
    kind: MovementKind
    cause: Cause
    refusal: DomainError
    on_hand: int = 0
    reserved: int = 0


async def change_all(changes: Sequence[Change]) -> None:
    """Several rows' level changes (an order's lines shipping or released), holding the hot rows as briefly as one.

    Every ledger row is written first, then the UPDATEs back to back in stock-id order (so two transactions
    cannot deadlock), then the low-stock checks: no round trip between a row's lock and the next row's but the
    next UPDATE itself. Raises the first failing change's ``refusal``.
    """
    ordered = sorted(changes, key=lambda c: c.stock.id)
    for item in ordered:
        await _record(item.stock, item.kind, item.cause, on_hand=item.on_hand, reserved=item.reserved)
    updated = [(item, await _levels(item.stock, item.on_hand, item.reserved, item.refusal)) for item in ordered]
    for item, row in updated:
        await low_stock.after_update(item.stock, item.cause.actor.name, **row, available_change=item.on_hand - item.reserved)


async def _levels(stock: Stock, on_hand: int, reserved: int, refusal: DomainError) -> dict:
    """The conditional UPDATE of one stock row; its new levels, or ``refusal`` raised if an invariant would break."""
    row = await _returning(_LEVELS_SQL, {"dh": on_hand, "dr": reserved, "now": datetime.now(UTC), "id": stock.id})
    if row is None:
        raise refusal
    return row


async def _record(stock: Stock, kind: MovementKind, cause: Cause, *, on_hand: int = 0, reserved: int = 0, quarantine: int = 0) -> None:
    """The ledger row, as plain SQL: it is on every reservation's path and the ORM's per-insert cost dominated it."""
    await _execute(
        _MOVEMENT_SQL,
        {
            "tenant": stock.tenant_id,  # type: ignore[attr-defined]
            "stock": stock.id,
            "warehouse": stock.warehouse_id,  # type: ignore[attr-defined]
            "sku": stock.sku,
            "kind": kind.value,
            "dh": on_hand,
            "dr": reserved,
            "dq": quarantine,
            "order": cause.order_id,
            "line": cause.line_id,
            "reservation": cause.reservation_id,
            "actor": cause.actor.name,
            "source": cause.actor.source,
            "reason": cause.reason[:500],
            "now": datetime.now(UTC),
        },
    )


async def lineage(
    actor: Actor,
    type: str,
    *,
    order_id: int | None = None,
    reason: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    """Append the lineage row for a stock change (order-less changes still belong to the tenant's history)."""
    await log.append(
        tenant_id=actor.tenant_id,
        order_id=order_id,
        type=type,
        actor=actor.name,
        source=actor.source,
        reason=reason,
        before=before,
        after=after,
    )
