"""A merged order group (合单) as stock sees it: the leader's members are reserved and shipped with it, as one parcel.

    async with unit_of_work():
        group = await lock_group(actor, order_id)      # the order, its leader and every member, locked in id order
        members = await members_of(group.leader)       # the live (not cancelled) members
        refuse_member(group.order, "ship")             # a member never ships on its own

``domain.orders.merge`` sets ``Order.merged_into`` on the members; allocating
the leader reserves every member's lines at the same warehouse
(``allocate.place``), and shipping the leader ships them all
(``domain.orders.fulfilment.ship_order``). A member asking for its own
allocation is sent to the warehouse its leader's parcel is reserved at, or
refused while the leader has none. This lives in ``domain.allocation`` so the
allocation use cases can read it without importing ``domain.orders``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from tortoise import connections
from tortoise.transactions import in_transaction

from domain.actor import Actor
from domain.errors import Conflict, NotFound
from domain.sql import dialect_sql
from domain.statuses import OrderStatus
from models import Order, Reservation
from models.order import order_no


@dataclass(frozen=True, slots=True)
class LockedGroup:
    """An order with the rest of its merge group, all locked."""

    order: Order
    leader: Order
    #: Every order merged into the leader (cancelled ones too), in id order; empty when nothing is merged.
    members: list[Order]


class Moved(Exception):
    """The orders to lock changed between reading and locking them (a merge or unmerge committed meanwhile).

    Raised to the caller only by ``lock_group(..., first_in_transaction=True)``: roll the transaction back
    (which releases the locks) and run it again.
    """


#: Rounds of read-then-lock before giving up on a group that keeps changing.
LOCK_ATTEMPTS = 5
MOVED_TOO_OFTEN = "the orders' merge kept changing while they were being locked; try again"


async def lock_orders(
    tenant_id: int, closure: Callable[[], Awaitable[set[int]]], lock_closure: Callable[[], Awaitable[list[Order]]] | None = None,
    *, first_in_transaction: bool = False,
) -> dict[int, Order]:
    """Lock the orders ``closure`` names, in id order and in one statement, so group writers cannot deadlock.

    ``closure`` reads which orders belong together (say, an order with its leader
    and members); it is read again once they are locked, and if the answer
    changed meanwhile the savepoint is rolled back, releasing those row locks,
    and the orders are locked afresh. Locking the one that changed on top of
    the others would take locks out of id order. ``lock_closure``, if given,
    reads the closure and locks its orders in one statement (one round trip less).

    ``first_in_transaction``: the caller's transaction holds nothing else yet, so it
    can stand in for the savepoint (two round trips less): a lost race raises
    ``Moved`` and the caller runs the whole transaction again.
    """
    if first_in_transaction:
        return await _lock_once(tenant_id, closure, lock_closure)
    for _ in range(LOCK_ATTEMPTS):
        try:
            async with in_transaction():  # a savepoint: rolling it back releases the row locks of a lost race
                return await _lock_once(tenant_id, closure, lock_closure)
        except Moved:
            continue
    raise Conflict(MOVED_TOO_OFTEN, field="id")


async def _lock_once(
    tenant_id: int, closure: Callable[[], Awaitable[set[int]]], lock_closure: Callable[[], Awaitable[list[Order]]] | None
) -> dict[int, Order]:
    if lock_closure is not None:
        rows = {row.id: row for row in await lock_closure()}
        ids = set(rows)
    else:
        ids = await closure()
        rows = {row.id: row for row in await Order.filter(tenant_id=tenant_id, id__in=list(ids)).order_by("id").select_for_update()}
    if await closure() != ids:
        raise Moved
    return rows


#: The order, its leader and the leader's members, in one round trip (it is read twice per lock, on every allocation).
_CLOSURE_SQL = """
WITH head AS (SELECT "id", COALESCE("merged_into_id", "id") AS leader FROM "orders" WHERE "id" = ? AND "tenant_id" = ?)
SELECT "id" FROM head
UNION SELECT leader FROM head
UNION SELECT o."id" FROM "orders" o JOIN head ON o."merged_into_id" = head.leader WHERE o."tenant_id" = ?
"""


async def _closure(tenant_id: int, order_id: int) -> set[int]:
    """The order, its leader and all the leader's members; empty when the tenant has no such order."""
    rows = await connections.get("default").execute_query_dict(dialect_sql(_CLOSURE_SQL, 3), [order_id, tenant_id, tenant_id])
    return {row["id"] for row in rows}


#: PostgreSQL: the closure read and its orders locked in id order, in one statement. The closure comes from the
#: statement's snapshot, as a separate read's would; ``lock_orders`` reads it again once the locks are held.
_LOCK_CLOSURE_SQL = f"""
WITH closure AS ({_CLOSURE_SQL.replace("?", "$1", 1).replace("?", "$2").strip()})
SELECT o.* FROM "orders" o WHERE o."tenant_id" = $2 AND o."id" IN (SELECT "id" FROM closure) ORDER BY o."id" FOR UPDATE OF o
"""


async def _lock_closure(tenant_id: int, order_id: int) -> list[Order]:
    rows = await connections.get("default").execute_query_dict(_LOCK_CLOSURE_SQL, [order_id, tenant_id])
    return [Order._init_from_db(**row) for row in rows]


async def lock_group(actor: Actor, order_id: int, *, first_in_transaction: bool = False) -> LockedGroup:
    """Lock an order of the caller's tenant with its leader and every member, all in id order.

    ``first_in_transaction``: see ``lock_orders`` (the caller catches ``Moved`` and runs its transaction again).
    """
    in_one = connections.get("default").capabilities.dialect == "postgres"
    locked = await lock_orders(actor.tenant_id, lambda: _closure(actor.tenant_id, order_id),
                               (lambda: _lock_closure(actor.tenant_id, order_id)) if in_one else None,
                               first_in_transaction=first_in_transaction)
    order = locked.get(order_id)
    if order is None:
        raise NotFound("no such order", field="id")
    leader = locked[order.merged_into_id] if order.merged_into_id is not None else order  # type: ignore[attr-defined]
    members = [row for row in locked.values() if row.merged_into_id == leader.id]  # type: ignore[attr-defined]
    return LockedGroup(order=order, leader=leader, members=sorted(members, key=lambda row: row.id))


async def members_of(order: Order) -> list[Order]:
    """The live (not cancelled) orders merged into ``order``, locked in id order; [] when it leads no merge."""
    if order.merged_into_id is not None:  # type: ignore[attr-defined]
        return []
    return list(
        await Order.filter(tenant_id=order.tenant_id, merged_into_id=order.id)  # type: ignore[attr-defined]
        .exclude(status=OrderStatus.CANCELLED).order_by("id").select_for_update()
    )


def refuse_member(order: Order, doing: str) -> None:
    """Raise ``Conflict`` when ``order`` is merged into another: only its leader may ``doing`` (allocate, ship)."""
    leader_id = order.merged_into_id  # type: ignore[attr-defined]
    if leader_id is not None:
        raise Conflict(
            f"{order_no(order.id)} is merged into {order_no(leader_id)} and ships in its parcel: "
            f"{doing} {order_no(leader_id)}, or unmerge {order_no(order.id)} first",
            field="id",
        )


async def reserved_warehouse(order_ids: Iterable[int]) -> int | None:
    """The warehouse holding most of these orders' live (active or shipped) reservations, if any."""
    rows = await Reservation.filter(order_id__in=list(order_ids), line_slot__isnull=False).values_list("warehouse_id", flat=True)
    return Counter(rows).most_common(1)[0][0] if rows else None


def pinned(warehouse_id: int | None, group_warehouse: int) -> int:
    """The group's warehouse, refusing another one an operator asked for: a merged group ships as one parcel."""
    if warehouse_id is not None and warehouse_id != group_warehouse:
        raise Conflict("the merged orders are reserved at another warehouse, and they ship as one parcel", field="warehouseId")
    return group_warehouse
