"""Write entry points. Each returns a payload: the order, or ``errors`` and nothing changed."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import orders as order_resolvers
from schema.errors import UserError, attempt
from schema.inputs import (
    AllocateOrderInput,
    CancelOrderInput,
    CreateOrderInput,
    HoldOrderInput,
    ReleaseHoldInput,
    ShipOrderInput,
    TransitionOrderInput,
)
from schema.inputs import MergeOrdersInput, SplitOrderInput, UnmergeOrderInput
from schema.types import Order


@strawberry.type
class OrderPayload:
    order: Order | None
    errors: list[UserError]


async def _payload(info: Info, action) -> OrderPayload:  # noqa: ANN001 - a zero-arg coroutine factory
    row, errors = await attempt(action)
    order = Order.from_row(row, info.context.actor.sees_personal_data) if row is not None else None
    return OrderPayload(order=order, errors=errors)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Record a new channel order.")
    async def create_order(self, info: Info, input: CreateOrderInput) -> OrderPayload:
        return await _payload(info, lambda: order_resolvers.create_order(info.context, input))

    @strawberry.mutation(description="Move an order along the state machine (refused if the move is not allowed).")
    async def transition_order(self, info: Info, input: TransitionOrderInput) -> OrderPayload:
        return await _payload(info, lambda: order_resolvers.transition(info.context, input.id, input.status.value, input.reason))

    @strawberry.mutation(description="Hold an order for one or more reasons; it will not progress until released.")
    async def hold_order(self, info: Info, input: HoldOrderInput) -> OrderPayload:
        return await _payload(info, lambda: order_resolvers.hold(info.context, input.id, input.reasons))

    @strawberry.mutation(description="Lift some or all hold reasons; the last one restores the previous status.")
    async def release_hold(self, info: Info, input: ReleaseHoldInput) -> OrderPayload:
        return await _payload(info, lambda: order_resolvers.release(info.context, input.id, input.reasons, input.reason))

    @strawberry.mutation(description="Cancel an order that has not shipped.")
    async def cancel_order(self, info: Info, input: CancelOrderInput) -> OrderPayload:
        return await _payload(info, lambda: order_resolvers.cancel(info.context, input.id, input.reason))

    @strawberry.mutation(description="Assign a paid order to a warehouse.")
    async def allocate_order(self, info: Info, input: AllocateOrderInput) -> OrderPayload:
        return await _payload(info, lambda: order_resolvers.allocate(info.context, input.id, input.warehouse_id, input.reason))

    @strawberry.mutation(description="Record the hand-over of a packed order to a carrier.")
    async def ship_order(self, info: Info, input: ShipOrderInput) -> OrderPayload:
        return await _payload(
            info,
            lambda: order_resolvers.ship(info.context, input.id, input.carrier, input.tracking_no, input.estimated_delivery,
                                         warehouse_id=input.warehouse_id, parcel=input.parcel),
        )

    @strawberry.mutation(description="Merge orders to the same receiver into one parcel (合单), before allocation; "
                         "returns the leader (the earliest placed).")
    async def merge_orders(self, info: Info, input: MergeOrdersInput) -> OrderPayload:
        return await _payload(info, lambda: order_resolvers.merge(info.context, input.ids))

    @strawberry.mutation(description="Take an order out of its merge (or dissolve the merge, given its leader) before it ships.")
    async def unmerge_order(self, info: Info, input: UnmergeOrderInput) -> OrderPayload:
        return await _payload(info, lambda: order_resolvers.unmerge(info.context, input.id, input.reason))

    @strawberry.mutation(description="Split an order into parcels by hand; a line given to several parcels is split by quantity.")
    async def split_order(self, info: Info, input: SplitOrderInput) -> OrderPayload:
        return await _payload(info, lambda: order_resolvers.split(info.context, input.id, input.parcels))
