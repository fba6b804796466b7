"""Stock truth over GraphQL: levels and ledger, allocation decisions, the pick queue, and their mutations."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

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
from schema.arguments import After, First
from schema.connections import AFTER_ARGUMENT, PAGE_ARGUMENT, Connection
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
    id: strawberry.ID = strawberry.field(description="The stock row's global id (a `Stock` node).")
    sku: str = strawberry.field(description="The merchant's SKU code.")
    on_hand: int = strawberry.field(description="Units physically in the warehouse.")
    reserved: int = strawberry.field(description="Units promised to orders and not yet shipped.")
    available: int = strawberry.field(description="onHand - reserved: what can still be promised.")
    safety: int = strawberry.field(description="Safety stock in units.")
    in_transit: int = strawberry.field(description="Units on their way in (inbound information; not promised against).")
    quarantine: int = strawberry.field(description="Returned units awaiting inspection; not sellable.")
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

    @strawberry.field(description="true when available is at or below `lowStockThreshold`.")
    def low(self) -> bool:
        return self.low_stock_threshold is not None and self.available <= self.low_stock_threshold

    @strawberry.field(description="The warehouse.")
    async def warehouse(self, info: Info) -> Warehouse:
        return await warehouse_by_pk(info, self.warehouse_pk)

    @strawberry.field(description="The ledger rows of this (warehouse, SKU), newest first, a page at a time.")
    async def movements(
        self, info: Info, first: Annotated[int, strawberry.argument(description=PAGE_ARGUMENT)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_ARGUMENT)] = None,
    ) -> StockMovementConnection:
        page = await stock_resolvers.movements_of_stock(info.context, self.pk, first, after)
        return StockMovementConnection.of(page, StockMovement.from_row)


@strawberry.type(description="Units of one order line to pick.")
class PickLine:
    sku: str = strawberry.field(description="The SKU to pick.")
    quantity: int = strawberry.field(description="Units to pick.")
    line_id: strawberry.ID = strawberry.field(description="The order line's id.")


@strawberry.type(description="One order waiting to be picked, with what to pick.")
class PickQueueEntry:
    position: int = strawberry.field(description="1 = pick next")
    cursor: str = strawberry.field(description="Opaque cursor; pass it as `after` to get the entries after this one.")
    priority: PriorityTier = strawberry.field(description="The order's pick priority tier.")
    ship_by: datetime | None = strawberry.field(
        description="When the order must leave the warehouse (UTC); null if not promised.")
    lines: list[PickLine] = strawberry.field(description="The units to pick in this warehouse.")
    order: Order = strawberry.field(description="The order (masked for roles that do not see personal data).")


@strawberry.type(description="A warehouse's unclaimed picks: urgent tiers first, then the earliest ship-by.")
class PickQueue:
    entries: list[PickQueueEntry] = strawberry.field(description="The page's orders, in picking order.")
    page_info: PageInfo = strawberry.field(description="Whether more follow, and the cursor to ask for them.")
    warehouse_pk: strawberry.Private[int]

    @strawberry.field(description="The warehouse.")
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
        start = entries[0].cursor if entries else None
        return cls(entries=entries, page_info=PageInfo(has_next_page=page.has_next, end_cursor=end, start_cursor=start,
                                                       has_previous_page=page.offset > 0), warehouse_pk=page.warehouse_id)


@strawberry.type(description="Stock levels, a page at a time.")
class StockLevelConnection(Connection[StockLevel]):
    pass


@strawberry.type(description="Stock ledger rows, a page at a time.")
class StockMovementConnection(Connection[StockMovement]):
    pass


@strawberry.type(description="An allocation policy as stored (validated JSON).")
class AllocationPolicy:
    scope: str = strawberry.field(description="`tenant`, or `channel:<id>` for a channel's own policy")
    channel: str | None = strawberry.field(description="Channel code for a channel policy")
    version: int = strawberry.field(description="Increases by one each time the policy is saved.")
    config: JSON = strawberry.field(
        description="The policy as validated JSON (strategy, rules, fallback …; see the allocation docs).")
    updated_by: str = strawberry.field(description="Who saved this version.")
    updated_at: datetime = strawberry.field(description="When this version was saved (UTC).")

    @classmethod
    def from_row(cls, row: Any) -> AllocationPolicy:
        return cls(scope=row.scope, channel=row.channel.code if row.channel else None, version=row.version,
                   config=row.config, updated_by=row.updated_by, updated_at=row.updated_at)


@strawberry.type(description="A pick priority tier and its ship-by promise.")
class PriorityTierInfo:
    tier: PriorityTier = strawberry.field(description="The tier.")
    rank: int = strawberry.field(description="Picked in this order: lower first.")
    promise_hours: float = strawberry.field(description="Hours from placing to the default ship-by.")
    label: str = strawberry.field(description="The tier in words, e.g. `ship within 4 hours`.")


# --- inputs and payloads -----------------------------------------------------------------------


@strawberry.input(description="Goods received into a warehouse.")
class ReceiveStockInput:
    warehouse: strawberry.ID = strawberry.field(description="The warehouse's id.")
    sku: str = strawberry.field(description="The merchant's SKU code.")
    quantity: int = strawberry.field(description="Units received; at least 1.")
    reason: str | None = strawberry.field(default=None, description="A note for the ledger (e.g. the delivery note); `receipt` if omitted.")
    safety: int | None = strawberry.field(default=None, description="Also set safety stock")


@strawberry.input(description="A correction of on-hand stock.")
class AdjustStockInput:
    warehouse: strawberry.ID = strawberry.field(description="The warehouse's id.")
    sku: str = strawberry.field(description="The merchant's SKU code.")
    delta: int = strawberry.field(description="Units to add (positive) or remove (negative) from on hand")
    reason: str = strawberry.field(description="Why (damage, found units …), recorded in the ledger.")


@strawberry.input(description="Set a (warehouse, SKU)'s safety stock.")
class SetSafetyStockInput:
    warehouse: strawberry.ID = strawberry.field(description="The warehouse's id.")
    sku: str = strawberry.field(description="The merchant's SKU code.")
    safety: int = strawberry.field(description="Safety stock in units; not negative.")


@strawberry.input(description="Set a SKU's low-stock factor.")
class SetLowStockFactorInput:
    sku: str = strawberry.field(description="The merchant's SKU code.")
    factor: Decimal = strawberry.field(description="Alert when available <= safety x factor, e.g. 1.5")


@strawberry.input(description="One counted level, from a WMS or a stocktake.")
class StockCountInput:
    warehouse: strawberry.ID = strawberry.field(description="The warehouse's id.")
    sku: str = strawberry.field(description="The merchant's SKU code.")
    on_hand: int = strawberry.field(description="Units counted on hand; not negative.")
    in_transit: int | None = strawberry.field(default=None, description="Units on their way in, if the WMS knows")


@strawberry.input(description="Counted levels to apply.")
class SyncStockCountsInput:
    counts: list[StockCountInput] = strawberry.field(description="The counts, one per (warehouse, SKU).")
    reason: str | None = strawberry.field(default=None, description="A note for the ledger (e.g. the count's reference); `WMS count` if omitted.")


@strawberry.input(description="The outcome of inspecting quarantined returns.")
class InspectQuarantineInput:
    warehouse: strawberry.ID = strawberry.field(description="The warehouse's id.")
    sku: str = strawberry.field(description="The merchant's SKU code.")
    accepted: int = strawberry.field(default=0, description="Units back into on hand (sellable).")
    scrapped: int = strawberry.field(default=0, description="Units written off.")
    reason: str | None = strawberry.field(default=None, description="A note for the ledger.")


@strawberry.input(description="Returned units of a shipped line.")
class ReturnToQuarantineInput:
    line: strawberry.ID = strawberry.field(description="The order line's id.")
    quantity: int = strawberry.field(description="Units returned; at most what the line shipped and has not returned yet.")
    reason: str = strawberry.field(description="Why, recorded in the ledger and lineage.")
    warehouse: strawberry.ID | None = strawberry.field(default=None, description="Defaults to the warehouse it shipped from")


@strawberry.input(description="Allocate an order by the allocation policy.")
class AllocateByPolicyInput:
    id: strawberry.ID = strawberry.field(description="The order's id.")
    reason: str = strawberry.field(default="", description="Why, recorded in the lineage; may be empty.")


@strawberry.input(description="Move one order line to another warehouse.")
class MoveOrderLineInput:
    line: strawberry.ID = strawberry.field(description="The order line's id.")
    warehouse: strawberry.ID = strawberry.field(description="The warehouse to move it to.")
    reason: str = strawberry.field(description="Why, recorded in the lineage.")


@strawberry.input(description="Force-release a reservation.")
class ReleaseReservationInput:
    reservation: strawberry.ID = strawberry.field(description="The reservation's id.")
    reason: str = strawberry.field(description="Why, recorded in the ledger and lineage.")


@strawberry.input(description="Change an order's pick priority.")
class SetOrderPriorityInput:
    id: strawberry.ID = strawberry.field(description="The order's id.")
    tier: PriorityTier = strawberry.field(description="The new tier.")
    reason: str = strawberry.field(description="Why, recorded in the lineage.")
    ship_by: datetime | None = strawberry.field(default=None, description="Defaults to now + the tier's promise (never later than before)")


@strawberry.input(description="Claim a pick for yourself.")
class ClaimPickInput:
    warehouse: strawberry.ID = strawberry.field(description="The warehouse you pick in.")
    order: strawberry.ID | None = strawberry.field(default=None, description="Omit to take the head of the queue")


@strawberry.input(description="An allocation policy to store.")
class SetAllocationPolicyInput:
    config: JSON = strawberry.field(
        description="The policy as JSON; refused (VALIDATION, naming the bad key) if it does not validate.")
    channel: str | None = strawberry.field(default=None, description="Channel code; omit for the tenant's default")


@strawberry.type(description="The result of a stock mutation: the level as it is now, or errors and nothing changed.")
class StockLevelPayload:
    stock: StockLevel | None = strawberry.field(description="The level after the change; null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(
        description="Why nothing changed (e.g. FORBIDDEN for a role that may not change stock, INSUFFICIENT_STOCK); empty on success.")


@strawberry.type(description="What a count did to one (warehouse, SKU).")
class StockCountResult:
    sku: str = strawberry.field(description="The SKU.")
    before: int = strawberry.field(description="On hand before the count.")
    counted: int = strawberry.field(description="On hand as counted.")
    difference: int = strawberry.field(description="counted - before.")
    outcome: str = strawberry.field(description="APPLIED, UNCHANGED or CONFLICT (counted below what is reserved: not applied, alert raised)")
    message: str = strawberry.field(description="The outcome in words.")
    warehouse_pk: strawberry.Private[int]

    @strawberry.field(description="The warehouse.")
    async def warehouse(self, info: Info) -> Warehouse:
        return await warehouse_by_pk(info, self.warehouse_pk)


@strawberry.type(description="The result of applying counts.")
class StockSyncPayload:
    results: list[StockCountResult] = strawberry.field(description="One result per count, in input order.")
    errors: list[UserError] = strawberry.field(description="Why nothing was applied; empty on success.")


@strawberry.type(description="The result of setting a low-stock factor.")
class LowStockFactorPayload:
    sku: str | None = strawberry.field(description="The SKU; null on error.")
    factor: Decimal | None = strawberry.field(description="The stored factor (a decimal string); null on error.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type(description="The result of storing an allocation policy.")
class AllocationPolicyPayload:
    policy: AllocationPolicy | None = strawberry.field(description="The stored policy; null on error.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type(description="The result of retrying allocation of waiting orders.")
class BackorderPayload:
    allocated: int = strawberry.field(description="Orders allocated by this run.")
    still_waiting: int = strawberry.field(description="Orders still waiting for stock.")
    errors: list[UserError] = strawberry.field(description="Why the run did not happen; empty on success.")


@strawberry.type(description="The result of expiring pre-sale reservations.")
class ExpiryPayload:
    released_orders: int = strawberry.field(description="Orders whose pre-sale reservations were released.")
    errors: list[UserError] = strawberry.field(description="Why the run did not happen; empty on success.")


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
        self, info: Info, sku: Annotated[str | None, strawberry.argument(description="Only this SKU.")] = None, warehouse: Annotated[strawberry.ID | None, strawberry.argument(description="Only this warehouse (its id).")] = None, low_only: Annotated[bool, strawberry.argument(description="Only rows with an open low-stock alert.")] = False,
        first: First = 50, after: After = None,
    ) -> StockLevelConnection:
        levels, page = await stock_resolvers.levels_page(info.context, sku, warehouse, low_only, first, after)
        by_id = {level.stock.id: level for level in levels}
        return StockLevelConnection.of(page, lambda row: StockLevel.from_level(by_id[row.id]))

    @strawberry.field(description="The stock ledger, newest first, by warehouse, SKU and/or order.")
    async def stock_movements(
        self, info: Info, warehouse: Annotated[strawberry.ID | None, strawberry.argument(description="Only this warehouse (its id).")] = None, sku: Annotated[str | None, strawberry.argument(description="Only this SKU.")] = None, order: Annotated[strawberry.ID | None, strawberry.argument(description="Only movements this order caused (its id).")] = None,
        first: First = 50, after: After = None,
    ) -> StockMovementConnection:
        page = await stock_resolvers.movements_page(info.context, warehouse, sku, order, first, after)
        return StockMovementConnection.of(page, StockMovement.from_row)

    @strawberry.field(description="What a warehouse should pick next: priority tier, then ship-by.")
    async def pick_queue(self, info: Info, warehouse: Annotated[strawberry.ID, strawberry.argument(description="The warehouse's id.")], first: First = 20, after: After = None) -> PickQueue:
        return PickQueue.from_page(await stock_resolvers.queue_page(info.context, warehouse, first, after), _pii(info))

    @strawberry.field(description="The stored allocation policies (tenant default and per channel).")
    async def allocation_policies(self, info: Info) -> list[AllocationPolicy]:
        return [AllocationPolicy.from_row(row) for row in await stock_resolvers.policies(info.context)]

    @strawberry.field(description="The pick priority tiers, most urgent first, with their ship-by promises.")
    def priority_tiers(self) -> list[PriorityTierInfo]:
        return [
            PriorityTierInfo(tier=PriorityTier[name], rank=tier.rank, promise_hours=tier.promise.total_seconds() / 3600, label=tier.label)
            for name, tier in pick_queue.TIERS.items()
        ]


@strawberry.type
class StockMutation:
    @strawberry.mutation(description="Book a receipt into on-hand stock.")
    async def receive_stock(self, info: Info, input: Annotated[ReceiveStockInput, strawberry.argument(description="The receipt.")]) -> StockLevelPayload:
        return await _level_payload(info, lambda: stock_resolvers.receive(info.context, input))

    @strawberry.mutation(description="Correct on-hand stock (damage, found units); never below what is reserved.")
    async def adjust_stock(self, info: Info, input: Annotated[AdjustStockInput, strawberry.argument(description="The correction.")]) -> StockLevelPayload:
        return await _level_payload(info, lambda: stock_resolvers.adjust(info.context, input))

    @strawberry.mutation(description="Set a (warehouse, SKU)'s safety stock; the low-stock alert watches it.")
    async def set_safety_stock(self, info: Info, input: Annotated[SetSafetyStockInput, strawberry.argument(description="The level and its new safety stock.")]) -> StockLevelPayload:
        return await _level_payload(info, lambda: stock_resolvers.set_safety(info.context, input))

    @strawberry.mutation(description="Set the low-stock factor of a SKU (threshold = safety x factor).")
    async def set_low_stock_factor(self, info: Info, input: Annotated[SetLowStockFactorInput, strawberry.argument(description="The SKU and its factor.")]) -> LowStockFactorPayload:
        row, errors = await attempt(lambda: stock_resolvers.set_factor(info.context, input.sku, input.factor))
        return LowStockFactorPayload(sku=row.sku if row else None, factor=row.low_stock_factor if row else None, errors=errors)

    @strawberry.mutation(description="Apply the WMS's counts; each difference becomes a ledger row. Counts below what is reserved are reported, not applied.")
    async def sync_stock_counts(self, info: Info, input: Annotated[SyncStockCountsInput, strawberry.argument(description="The counts.")]) -> StockSyncPayload:
        rows, errors = await attempt(lambda: stock_resolvers.sync(info.context, input))
        results = [
            StockCountResult(sku=r.sku, before=r.before, counted=r.counted, difference=r.difference, outcome=r.outcome,
                             message=r.message, warehouse_pk=r.warehouse_id)
            for r in rows or []
        ]
        return StockSyncPayload(results=results, errors=errors)

    @strawberry.mutation(description="Decide on quarantined returns: accepted units become sellable, scrapped ones leave the books.")
    async def inspect_quarantine(self, info: Info, input: Annotated[InspectQuarantineInput, strawberry.argument(description="What was accepted and scrapped.")]) -> StockLevelPayload:
        return await _level_payload(info, lambda: stock_resolvers.inspect(info.context, input))

    @strawberry.mutation(description="Book returned (or exchanged) units of a shipped line into quarantine.")
    async def return_to_quarantine(self, info: Info, input: Annotated[ReturnToQuarantineInput, strawberry.argument(description="The line and the units returned.")]) -> OrderPayload:
        return await order_payload(info, lambda: stock_resolvers.return_item(info.context, input))

    @strawberry.mutation(description="Allocate a paid order where the tenant's (or channel's) policy says, reserving every line.")
    async def allocate_order_by_policy(self, info: Info, input: Annotated[AllocateByPolicyInput, strawberry.argument(description="The order.")]) -> OrderPayload:
        return await order_payload(info, lambda: stock_resolvers.allocate_by_policy(info.context, input.id, input.reason), input.id)

    @strawberry.mutation(description="Move one line to another warehouse: old reservation released, new one taken, atomically.")
    async def move_order_line(self, info: Info, input: Annotated[MoveOrderLineInput, strawberry.argument(description="The line and its new warehouse.")]) -> OrderPayload:
        return await order_payload(info, lambda: stock_resolvers.move_line(info.context, input.line, input.warehouse, input.reason))

    @strawberry.mutation(description="Force-release a reservation (with a reason); an allocated order goes back to PAID.")
    async def release_reservation(self, info: Info, input: Annotated[ReleaseReservationInput, strawberry.argument(description="The reservation and why.")]) -> OrderPayload:
        return await order_payload(info, lambda: stock_resolvers.release(info.context, input.reservation, input.reason))

    @strawberry.mutation(description="Change an order's pick priority; the queue re-orders and the lineage records who and why.")
    async def set_order_priority(self, info: Info, input: Annotated[SetOrderPriorityInput, strawberry.argument(description="The order and its new tier.")]) -> OrderPayload:
        return await order_payload(
            info, lambda: stock_resolvers.prioritise(info.context, input.id, input.tier.value, input.reason, input.ship_by),
            input.id,
        )

    @strawberry.mutation(description="Take a pick (the given order or the head of the queue); only one picker ever gets it.")
    async def claim_pick(self, info: Info, input: Annotated[ClaimPickInput, strawberry.argument(description="Where you pick, and optionally which order.")]) -> OrderPayload:
        return await order_payload(info, lambda: stock_resolvers.claim(info.context, input.warehouse, input.order), input.order)

    @strawberry.mutation(description="Store an allocation policy (validated; see the docs for its JSON shape).")
    async def set_allocation_policy(self, info: Info, input: Annotated[SetAllocationPolicyInput, strawberry.argument(description="The policy.")]) -> AllocationPolicyPayload:
        row, errors = await attempt(lambda: stock_resolvers.save_policy(info.context, input.config, input.channel))
        return AllocationPolicyPayload(policy=AllocationPolicy.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Retry allocation of paid orders waiting for stock, most urgent first (e.g. after a receipt).")
    async def allocate_backorders(self, info: Info, first: Annotated[int, strawberry.argument(description="At most this many orders in this run (most urgent first).")] = 50) -> BackorderPayload:
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
    async def pick_queue(self, info: Info, warehouse: Annotated[strawberry.ID, strawberry.argument(description="The warehouse's id.")], first: First = 20) -> AsyncGenerator[PickQueue, None]:
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
