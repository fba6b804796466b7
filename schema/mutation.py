"""Write entry points. Each returns a payload: the order, or ``errors``, nothing changed and the order as it is."""

from __future__ import annotations

from typing import Annotated

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


@strawberry.type(description="The result of an order mutation: the order as it is now, or errors and nothing changed.")
class OrderPayload:
    order: Order | None = strawberry.field(
        description="The order after the change; when `errors` is not empty, the order the input names as it is now "
        "(unchanged), so a client can re-render it; null if there is no such order (or none was named, as in create).")
    errors: list[UserError] = strawberry.field(
        description="Why nothing changed (e.g. FORBIDDEN: orders are changed by the admin, ops and service roles, picks also by warehouse); empty on success.")


async def _payload(info: Info, action, order_id: str | None = None) -> OrderPayload:  # noqa: ANN001 - a zero-arg coroutine factory
    """Run the change; if it is refused, still carry the order ``order_id`` names, as it is now, so a client re-renders."""
    row, errors = await attempt(action)
    if row is None and errors and isinstance(order_id, str):
        row = await order_resolvers.current_order(info.context, order_id)
    order = Order.from_row(row, info.context.actor.sees_personal_data) if row is not None else None
    return OrderPayload(order=order, errors=errors)


async def _payload_for(info: Info, input: object, action) -> OrderPayload:  # noqa: ANN001 - a zero-arg coroutine factory
    """``_payload`` for an input naming its order as ``id`` (create names none)."""
    return await _payload(info, action, getattr(input, "id", None))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Record a new channel order.")
    async def create_order(self, info: Info, input: Annotated[CreateOrderInput, strawberry.argument(description="The order to record.")]) -> OrderPayload:
        return await _payload_for(info, input, lambda: order_resolvers.create_order(info.context, input))

    @strawberry.mutation(description="Move an order along the state machine (refused if the move is not allowed).")
    async def transition_order(self, info: Info, input: Annotated[TransitionOrderInput, strawberry.argument(description="The order and the status to move it to.")]) -> OrderPayload:
        return await _payload_for(info, input, lambda: order_resolvers.transition(info.context, input.id, input.status.value, input.reason))

    @strawberry.mutation(description="Hold an order for one or more reasons; it will not progress until released.")
    async def hold_order(self, info: Info, input: Annotated[HoldOrderInput, strawberry.argument(description="The order and why it is held.")]) -> OrderPayload:
        return await _payload_for(info, input, lambda: order_resolvers.hold(info.context, input.id, input.reasons))

    @strawberry.mutation(description="Lift some or all hold reasons; the last one restores the previous status.")
    async def release_hold(self, info: Info, input: Annotated[ReleaseHoldInput, strawberry.argument(description="The order and which holds to lift.")]) -> OrderPayload:
        return await _payload_for(info, input, lambda: order_resolvers.release(info.context, input.id, input.reasons, input.reason))

    @strawberry.mutation(description="Cancel an order that has not shipped.")
    async def cancel_order(self, info: Info, input: Annotated[CancelOrderInput, strawberry.argument(description="The order and why it is cancelled.")]) -> OrderPayload:
        return await _payload_for(info, input, lambda: order_resolvers.cancel(info.context, input.id, input.reason))

    @strawberry.mutation(description="Assign a paid order to a warehouse.")
    async def allocate_order(self, info: Info, input: Annotated[AllocateOrderInput, strawberry.argument(description="The order and the warehouse.")]) -> OrderPayload:
        return await _payload_for(info, input, lambda: order_resolvers.allocate(info.context, input.id, input.warehouse_id, input.reason))

    @strawberry.mutation(description="Record the hand-over of a packed order to a carrier.")
    async def ship_order(self, info: Info, input: Annotated[ShipOrderInput, strawberry.argument(description="The order (or parcel) and its carrier and tracking number.")]) -> OrderPayload:
        return await _payload_for(
            info, input,
            lambda: order_resolvers.ship(info.context, input.id, input.carrier, input.tracking_no, input.estimated_delivery,
                                         warehouse_id=input.warehouse_id, parcel=input.parcel),
        )

    @strawberry.mutation(description="Merge orders to the same receiver into one parcel (合单), before allocation; "
                         "returns the leader (the earliest placed).")
    async def merge_orders(self, info: Info, input: Annotated[MergeOrdersInput, strawberry.argument(description="The orders to merge.")]) -> OrderPayload:
        return await _payload_for(info, input, lambda: order_resolvers.merge(info.context, input.ids))

    @strawberry.mutation(description="Take an order out of its merge (or dissolve the merge, given its leader) before it ships.")
    async def unmerge_order(self, info: Info, input: Annotated[UnmergeOrderInput, strawberry.argument(description="The order to take out (or the leader to dissolve the merge).")]) -> OrderPayload:
        return await _payload_for(info, input, lambda: order_resolvers.unmerge(info.context, input.id, input.reason))

    @strawberry.mutation(description="Split an order into parcels by hand; a line given to several parcels is split by quantity.")
    async def split_order(self, info: Info, input: Annotated[SplitOrderInput, strawberry.argument(description="The order and its parcels.")]) -> OrderPayload:
        return await _payload_for(info, input, lambda: order_resolvers.split(info.context, input.id, input.parcels))
