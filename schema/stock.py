"""Stock truth over GraphQL: levels and ledger, allocation decisions, the pick queue, and their mutations."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.allocation import pick_queue
from events.bus import SlowSubscriber
from resolvers import ids
from resolvers import stock as stock_resolvers
from resolvers.lineage import EventFilter
from resolvers.loaders import Loaders
from resolvers.orders import pk_of
from resolvers.pagination import check_page_size
from schema.enums import PriorityTier
from schema.errors import UserError, attempt
from schema.mutation import OrderPayload
from schema.mutation import _payload as order_payload
from schema.types import (
    Order,
    PageInfo,
    Reservation,
    StockMovement,
    Warehouse,
    warehouse_by_pk,
)


def _pii(info: Info) -> bool:
    return info.context.actor.sees_personal_data


# --- types -------------------------------------------------------------------------------------


@strawberry.type(description="Levels of one SKU in one warehouse. available = onHand - reserved; quarantine is not sellable.")
class StockLevel:
    id: strawberry.ID
    sku: str
    on_hand: int
    reserved: int
    available: int
    safety: int
    in_transit: int
    quarantine: int
    low_stock_threshold: int | None = strawberry.field(description="available at or below this raises a low-stock alert (safety x the SKU's factor)")
    warehouse_pk: strawberry.Private[int]
    pk: strawberry.Private[int]

    @classmethod
    def from_level(cls, level: stock_resolvers.LevelRow) -> StockLevel:
        row = level.stock
        return cls(
            id=strawberry.ID(ids.encode("Stock", row.id)), sku=row.sku, on_hand=row.on_hand, reserved=row.reserved,
            available=row.on_hand - row.reserved, safety=row.safety, in_transit=row.in_transit, quarantine=level.quarantine,
            low_stock_threshold=level.threshold, warehouse_pk=row.warehouse_id, pk=row.id,
        )

    @strawberry.field
    def low(self) -> bool:
        return self.low_stock_threshold is not None and self.available <= self.low_stock_threshold

    @strawberry.field
    async def warehouse(self, info: Info) -> Warehouse:
        return await warehouse_by_pk(info, self.warehouse_pk)

    @strawberry.field(description="The newest ledger rows of this (warehouse, SKU), newest first.")
    async def movements(self, info: Info, first: int = 20) -> list[StockMovement]:
        check_page_size(first, info.context.max_page_size)
        return [StockMovement.from_row(row) for row in await stock_resolvers.movements_of_stock(self.pk, first)]


@strawberry.type
class PickLine:
    sku: str
    quantity: int
    line_id: strawberry.ID


@strawberry.type
class PickQueueEntry:
    position: int = strawberry.field(description="1 = pick next")
    cursor: str
    priority: PriorityTier
    ship_by: datetime | None
    lines: list[PickLine]
    order: Order


@strawberry.type(description="A warehouse's unclaimed picks: urgent tiers first, then the earliest ship-by.")
class PickQueue:
    entries: list[PickQueueEntry]
    page_info: PageInfo
    warehouse_pk: strawberry.Private[int]

    @strawberry.field
    async def warehouse(self, info: Info) -> Warehouse:
        return await warehouse_by_pk(info, self.warehouse_pk)

    @classmethod
    def from_page(cls, page: stock_resolvers.QueuePage, pii: bool) -> PickQueue:
        entries = [
            PickQueueEntry(
                position=page.offset + index + 1, cursor=page.cursor_of(order), priority=PriorityTier[order.priority],
                ship_by=order.ship_by, order=Order.from_row(order, pii),
                lines=[PickLine(sku=r.sku, quantity=r.quantity, line_id=strawberry.ID(ids.encode("OrderLine", r.line_id)))
                       for r in page.lines.get(order.id, [])],
            )
            for index, order in enumerate(page.orders)
        ]
        end = entries[-1].cursor if entries else None
        return cls(entries=entries, page_info=PageInfo(has_next_page=page.has_next, end_cursor=end), warehouse_pk=page.warehouse_id)


@strawberry.type
class StockLevelConnection:
    nodes: list[StockLevel]
    page_info: PageInfo


@strawberry.type
class StockMovementConnection:
    nodes: list[StockMovement]
    page_info: PageInfo


@strawberry.type(description="An allocation policy as stored (validated JSON).")
class AllocationPolicy:
    scope: str = strawberry.field(description="`tenant`, or `channel:<id>` for a channel's own policy")
    channel: str | None = strawberry.field(description="Channel code for a channel policy")
    version: int
    config: JSON
    updated_by: str
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> AllocationPolicy:
        return cls(scope=row.scope, channel=row.channel.code if row.channel else None, version=row.version,
                   config=row.config, updated_by=row.updated_by, updated_at=row.updated_at)


@strawberry.type
class PriorityTierInfo:
    tier: PriorityTier
    rank: int
    promise_hours: float
    label: str


# --- inputs and payloads -----------------------------------------------------------------------


@strawberry.input
class ReceiveStockInput:
    warehouse: strawberry.ID
    sku: str
    quantity: int
    reason: str | None = None
    safety: int | None = strawberry.field(default=None, description="Also set safety stock")


@strawberry.input
class AdjustStockInput:
    warehouse: strawberry.ID
    sku: str
    delta: int = strawberry.field(description="Units to add (positive) or remove (negative) from on hand")
    reason: str


@strawberry.input
class SetSafetyStockInput:
    warehouse: strawberry.ID
    sku: str
    safety: int


@strawberry.input
class SetLowStockFactorInput:
    sku: str
    factor: Decimal = strawberry.field(description="Alert when available <= safety x factor, e.g. 1.5")


@strawberry.input
class StockCountInput:
    warehouse: strawberry.ID
    sku: str
    on_hand: int
    in_transit: int | None = strawberry.field(default=None, description="Units on their way in, if the WMS knows")


@strawberry.input
class SyncStockCountsInput:
    counts: list[StockCountInput]
    reason: str | None = None


@strawberry.input
class InspectQuarantineInput:
    warehouse: strawberry.ID
    sku: str
    accepted: int = 0
    scrapped: int = 0
    reason: str | None = None


@strawberry.input
class ReturnToQuarantineInput:
    line: strawberry.ID
    quantity: int
    reason: str
    warehouse: strawberry.ID | None = strawberry.field(default=None, description="Defaults to the warehouse it shipped from")


@strawberry.input
class AllocateByPolicyInput:
    id: strawberry.ID
    reason: str = ""


@strawberry.input
class MoveOrderLineInput:
    line: strawberry.ID
    warehouse: strawberry.ID
    reason: str


@strawberry.input
class ReleaseReservationInput:
    reservation: strawberry.ID
    reason: str


@strawberry.input
class SetOrderPriorityInput:
    id: strawberry.ID
    tier: PriorityTier
    reason: str
    ship_by: datetime | None = strawberry.field(default=None, description="Defaults to now + the tier's promise (never later than before)")


@strawberry.input
class ClaimPickInput:
    warehouse: strawberry.ID
    order: strawberry.ID | None = strawberry.field(default=None, description="Omit to take the head of the queue")


@strawberry.input
class SetAllocationPolicyInput:
    config: JSON
    channel: str | None = strawberry.field(default=None, description="Channel code; omit for the tenant's default")


@strawberry.type
class StockLevelPayload:
    stock: StockLevel | None
    errors: list[UserError]


@strawberry.type
class StockCountResult:
    sku: str
    before: int
    counted: int
    difference: int
    outcome: str = strawberry.field(description="APPLIED, UNCHANGED or CONFLICT (counted below what is reserved: not applied, alert raised)")
    message: str
    warehouse_pk: strawberry.Private[int]

    @strawberry.field
    async def warehouse(self, info: Info) -> Warehouse:
        return await warehouse_by_pk(info, self.warehouse_pk)


@strawberry.type
class StockSyncPayload:
    results: list[StockCountResult]
    errors: list[UserError]


@strawberry.type
class LowStockFactorPayload:
    sku: str | None
    factor: Decimal | None
    errors: list[UserError]


@strawberry.type
class AllocationPolicyPayload:
    policy: AllocationPolicy | None
    errors: list[UserError]


@strawberry.type
class BackorderPayload:
    allocated: int
    still_waiting: int
    errors: list[UserError]


@strawberry.type
class ExpiryPayload:
    released_orders: int
    errors: list[UserError]


async def _level_payload(info: Info, action: Any) -> StockLevelPayload:
    row, errors = await attempt(action)
    if row is None:
        return StockLevelPayload(stock=None, errors=errors)
    await row.refresh_from_db()
    return StockLevelPayload(stock=StockLevel.from_level(await stock_resolvers.level_of(info.context, row)), errors=[])


# --- roots -------------------------------------------------------------------------------------


@strawberry.type
class StockQuery:
    @strawberry.field(description="Stock levels, filtered; `lowOnly` gives rows with an open low-stock alert. `first` is 0-100.")
    async def stock_levels(
        self, info: Info, sku: str | None = None, warehouse: strawberry.ID | None = None, low_only: bool = False,
        first: int = 50, after: str | None = None,
    ) -> StockLevelConnection:
        levels, page = await stock_resolvers.levels_page(info.context, sku, warehouse, low_only, first, after)
        return StockLevelConnection(nodes=[StockLevel.from_level(level) for level in levels],
                                    page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor))

    @strawberry.field(description="The stock ledger, newest first, by warehouse, SKU and/or order.")
    async def stock_movements(
        self, info: Info, warehouse: strawberry.ID | None = None, sku: str | None = None, order: strawberry.ID | None = None,
        first: int = 50, after: str | None = None,
    ) -> StockMovementConnection:
        page = await stock_resolvers.movements_page(info.context, warehouse, sku, order, first, after)
        return StockMovementConnection(nodes=[StockMovement.from_row(row) for row in page.rows],
                                       page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor))

    @strawberry.field(description="What a warehouse should pick next: priority tier, then ship-by.")
    async def pick_queue(self, info: Info, warehouse: strawberry.ID, first: int = 20, after: str | None = None) -> PickQueue:
        return PickQueue.from_page(await stock_resolvers.queue_page(info.context, warehouse, first, after), _pii(info))

    @strawberry.field(description="The stored allocation policies (tenant default and per channel).")
    async def allocation_policies(self, info: Info) -> list[AllocationPolicy]:
        return [AllocationPolicy.from_row(row) for row in await stock_resolvers.policies(info.context)]

    @strawberry.field
    def priority_tiers(self) -> list[PriorityTierInfo]:
        return [
            PriorityTierInfo(tier=PriorityTier[name], rank=tier.rank, promise_hours=tier.promise.total_seconds() / 3600, label=tier.label)
            for name, tier in pick_queue.TIERS.items()
        ]


@strawberry.type
class StockMutation:
    @strawberry.mutation(description="Book a receipt into on-hand stock.")
    async def receive_stock(self, info: Info, input: ReceiveStockInput) -> StockLevelPayload:
        return await _level_payload(info, lambda: stock_resolvers.receive(info.context, input))

    @strawberry.mutation(description="Correct on-hand stock (damage, found units); never below what is reserved.")
    async def adjust_stock(self, info: Info, input: AdjustStockInput) -> StockLevelPayload:
        return await _level_payload(info, lambda: stock_resolvers.adjust(info.context, input))

    @strawberry.mutation
    async def set_safety_stock(self, info: Info, input: SetSafetyStockInput) -> StockLevelPayload:
        return await _level_payload(info, lambda: stock_resolvers.set_safety(info.context, input))

    @strawberry.mutation(description="Set the low-stock factor of a SKU (threshold = safety x factor).")
    async def set_low_stock_factor(self, info: Info, input: SetLowStockFactorInput) -> LowStockFactorPayload:
        row, errors = await attempt(lambda: stock_resolvers.set_factor(info.context, input.sku, input.factor))
        return LowStockFactorPayload(sku=row.sku if row else None, factor=row.low_stock_factor if row else None, errors=errors)

    @strawberry.mutation(description="Apply the WMS's counts; each difference becomes a ledger row. Counts below what is reserved are reported, not applied.")
    async def sync_stock_counts(self, info: Info, input: SyncStockCountsInput) -> StockSyncPayload:
        rows, errors = await attempt(lambda: stock_resolvers.sync(info.context, input))
        results = [
            StockCountResult(sku=r.sku, before=r.before, counted=r.counted, difference=r.difference, outcome=r.outcome,
                             message=r.message, warehouse_pk=r.warehouse_id)
            for r in rows or []
        ]
        return StockSyncPayload(results=results, errors=errors)

    @strawberry.mutation(description="Decide on quarantined returns: accepted units become sellable, scrapped ones leave the books.")
    async def inspect_quarantine(self, info: Info, input: InspectQuarantineInput) -> StockLevelPayload:
        return await _level_payload(info, lambda: stock_resolvers.inspect(info.context, input))

    @strawberry.mutation(description="Book returned (or exchanged) units of a shipped line into quarantine.")
    async def return_to_quarantine(self, info: Info, input: ReturnToQuarantineInput) -> OrderPayload:
        return await order_payload(info, lambda: stock_resolvers.return_item(info.context, input))

    @strawberry.mutation(description="Allocate a paid order where the tenant's (or channel's) policy says, reserving every line.")
    async def allocate_order_by_policy(self, info: Info, input: AllocateByPolicyInput) -> OrderPayload:
        return await order_payload(info, lambda: stock_resolvers.allocate_by_policy(info.context, input.id, input.reason))

    @strawberry.mutation(description="Move one line to another warehouse: old reservation released, new one taken, atomically.")
    async def move_order_line(self, info: Info, input: MoveOrderLineInput) -> OrderPayload:
        return await order_payload(info, lambda: stock_resolvers.move_line(info.context, input.line, input.warehouse, input.reason))

    @strawberry.mutation(description="Force-release a reservation (with a reason); an allocated order goes back to PAID.")
    async def release_reservation(self, info: Info, input: ReleaseReservationInput) -> OrderPayload:
        return await order_payload(info, lambda: stock_resolvers.release(info.context, input.reservation, input.reason))

    @strawberry.mutation(description="Change an order's pick priority; the queue re-orders and the lineage records who and why.")
    async def set_order_priority(self, info: Info, input: SetOrderPriorityInput) -> OrderPayload:
        return await order_payload(
            info, lambda: stock_resolvers.prioritise(info.context, input.id, input.tier.value, input.reason, input.ship_by)
        )

    @strawberry.mutation(description="Take a pick (the given order or the head of the queue); only one picker ever gets it.")
    async def claim_pick(self, info: Info, input: ClaimPickInput) -> OrderPayload:
        return await order_payload(info, lambda: stock_resolvers.claim(info.context, input.warehouse, input.order))

    @strawberry.mutation(description="Store an allocation policy (validated; see the docs for its JSON shape).")
    async def set_allocation_policy(self, info: Info, input: SetAllocationPolicyInput) -> AllocationPolicyPayload:
        row, errors = await attempt(lambda: stock_resolvers.save_policy(info.context, input.config, input.channel))
        return AllocationPolicyPayload(policy=AllocationPolicy.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Retry allocation of paid orders waiting for stock, most urgent first (e.g. after a receipt).")
    async def allocate_backorders(self, info: Info, first: int = 50) -> BackorderPayload:
        run, errors = await attempt(lambda: stock_resolvers.allocate_backorders(info.context, first))
        return BackorderPayload(allocated=run.allocated if run else 0, still_waiting=run.still_waiting if run else 0, errors=errors)

    @strawberry.mutation(description="Release pre-sale reservations whose balance deadline passed (run by a scheduler).")
    async def expire_presale_reservations(self, info: Info) -> ExpiryPayload:
        count, errors = await attempt(lambda: stock_resolvers.expire_presale(info.context))
        return ExpiryPayload(released_orders=count or 0, errors=errors)


#: Lineage events after which a warehouse's queue may look different.
QUEUE_EVENTS = frozenset({
    "stock.reserved", "stock.released", "stock.force_released", "stock.consumed", "stock.presale_converted",
    "order.allocated", "order.line_moved", "order.priority_changed", "order.pick_claimed", "order.cancelled",
    "order.hold_added", "order.hold_released", "order.status_changed", "order.shipped",
})


@strawberry.type
class StockSubscription:
    @strawberry.subscription(description="A warehouse's pick queue: the current page now, then again whenever it changes.")
    async def pick_queue(self, info: Info, warehouse: strawberry.ID, first: int = 20) -> AsyncGenerator[PickQueue, None]:
        ctx = info.context
        pk_of(warehouse, "Warehouse")
        wanted = EventFilter(tenant_id=ctx.actor.tenant_id, types=QUEUE_EVENTS)
        async with ctx.bus.subscribe() as live:
            last = None
            try:
                while True:
                    ctx.loaders = Loaders(ctx.actor.tenant_id)  # fresh per snapshot: never serve a stale cache
                    snapshot = PickQueue.from_page(await stock_resolvers.queue_page(ctx, warehouse, first, None), _pii(info))
                    key = [(e.order.id, e.priority, e.ship_by, len(e.lines)) for e in snapshot.entries]
                    if key != last:
                        last = key
                        yield snapshot
                    async for message in live:
                        if wanted.matches(message):
                            break
            except SlowSubscriber as exc:
                raise SlowSubscriber(str(exc)) from None


#: This module's types that ``node(id:)`` resolves (schema.build adds them to the schema).
STOCK_NODE_TYPES = (Reservation, StockMovement)
