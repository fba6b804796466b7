"""After-sales in GraphQL: the list and one after-sale, the moves as mutations, and the tenant's policy.

    mutation { requestAfterSale(input: {order: "T3JkZXI6MQ==", kind: REFUND_ONLY, reason: "broken",
                                        lines: [{orderLine: "T3JkZXJMaW5lOjE=", quantity: 1}]}) {
        afterSale { id status requestedAmount } errors { code field message fromStatus toStatus } } }

Every mutation answers ``{afterSale, errors}``: the after-sale as it is now,
or typed errors (``code``, ``field``, ``message``; ``fromStatus``/``toStatus``
for a move the after-sale's kind does not allow) and nothing changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.after_sales.machine import IllegalAfterSaleMove
from domain.after_sales.policy import Policy
from domain.errors import DomainError
from resolvers import after_sales as resolvers
from schema.after_sale_types import AfterSale, AfterSaleKind, AfterSaleSource, AfterSaleStatus
from schema.arguments import After
from schema.enums import ErrorCode
from schema.errors import short
from schema.connections import Connection


@strawberry.type(description="Why an after-sale mutation did not apply. Nothing was changed.")
class AfterSaleError:
    code: ErrorCode = strawberry.field(description="What kind of refusal.")
    message: str = strawberry.field(description="The refusal in words (safe to show).")
    field: str | None = strawberry.field(default=None, description="The input field at fault, if one.")
    from_status: AfterSaleStatus | None = strawberry.field(default=None, description="For ILLEGAL_TRANSITION: the after-sale's status.")
    to_status: AfterSaleStatus | None = strawberry.field(default=None, description="For ILLEGAL_TRANSITION: the status asked for.")

    @classmethod
    def from_domain(cls, error: DomainError) -> AfterSaleError:
        if isinstance(error, IllegalAfterSaleMove):
            return cls(code=ErrorCode.ILLEGAL_TRANSITION, message=short(error.message), field=error.field,
                       from_status=AfterSaleStatus(error.from_status), to_status=AfterSaleStatus(error.to_status))
        return cls(code=ErrorCode(error.code), message=short(error.message), field=short(error.field or "", 200) or None)


@strawberry.type(description="The result of an after-sale mutation: the after-sale as it is now, or errors and nothing changed.")
class AfterSalePayload:
    after_sale: AfterSale | None = strawberry.field(
        description="The after-sale; when `errors` is not empty, the one the mutation names as it is now (unchanged), "
        "or null (a new request that was refused, an id naming none).")
    errors: list[AfterSaleError] = strawberry.field(description="Why nothing changed; empty on success.")


async def _payload(action: Callable[[], Awaitable[Any]]) -> AfterSalePayload:
    try:
        row = await action()
    except DomainError as error:
        return AfterSalePayload(after_sale=None, errors=[AfterSaleError.from_domain(error)])
    return AfterSalePayload(after_sale=AfterSale.from_row(row), errors=[])


async def _payload_for(info: Info, global_id: str, action: Callable[[], Awaitable[Any]]) -> AfterSalePayload:
    """Like ``_payload``; a refused move still carries the after-sale as it is now, so a client re-renders it."""
    payload = await _payload(action)
    if payload.errors:
        row = await resolvers.one(info.context, global_id)
        payload.after_sale = AfterSale.from_row(row) if row is not None else None
    return payload


@strawberry.type(description="After-sales, a page at a time.")
class AfterSaleConnection(Connection[AfterSale]):
    pass


@strawberry.input(description="Narrows the after-sales list; every given criterion must hold.")
class AfterSaleFilter:
    status: list[AfterSaleStatus] | None = strawberry.field(default=None, description="Only these statuses.")
    kind: list[AfterSaleKind] | None = strawberry.field(default=None, description="Only these kinds.")
    order: strawberry.ID | None = strawberry.field(default=None, description="Only this order's after-sales.")
    source: AfterSaleSource | None = strawberry.field(default=None, description="Only requests from this source.")


@strawberry.input(description="Units of one order line a request is about.")
class AfterSaleLineInput:
    order_line: strawberry.ID = strawberry.field(description="The order line's id.")
    quantity: int = strawberry.field(description="Units; at most what the line has not had back already.")
    replacement_sku: str | None = strawberry.field(default=None, description="Exchanges: send this SKU instead.")


@strawberry.input(description="A photo of the goods, as base64.")
class AfterSalePhotoInput:
    content_type: str = strawberry.field(description="What the client says it is; the bytes decide.")
    data_base64: str = strawberry.field(description="JPEG, PNG or WebP, at most 2 MB.")


@strawberry.input(description="A refund, return or exchange request for lines of one order.")
class RequestAfterSaleInput:
    order: strawberry.ID = strawberry.field(description="The order's id.")
    kind: AfterSaleKind = strawberry.field(description="Refund only, return and refund, or exchange.")
    lines: list[AfterSaleLineInput] = strawberry.field(description="The lines and units it is about; at least one.")
    reason: str = strawberry.field(description="The buyer's reason.")
    amount: Decimal | None = strawberry.field(default=None, description="Refund kinds: default the lines' price "
                                              "share, capped at what may still go back.")
    external_id: str | None = strawberry.field(default=None, description="An id of yours: a repeat returns the same after-sale.")
    photos: list[AfterSalePhotoInput] | None = strawberry.field(default=None, description="At most 5.")


@strawberry.input(description="Units of one after-sale line that arrived.")
class ReceivedLineInput:
    line: strawberry.ID = strawberry.field(description="An AfterSaleLine id.")
    quantity: int = strawberry.field(description="Units that arrived.")


@strawberry.type(description="The after-sale policy in force for a channel (or tenant-wide): its JSON and what it means.")
class AfterSalePolicyInfo:
    channel_id: strawberry.ID | None = strawberry.field(
        description="The channel it applies to; null for the tenant-wide policy.")
    config: JSON = strawberry.field(description="The policy as JSON (the keys below).")
    auto_approve_refund_up_to: Decimal = strawberry.field(
        description="Refund-only requests up to this amount (decimal string, CNY) are approved automatically, unless risky; 200 by default.")
    respond_hours: int = strawberry.field(description="Hours to decide a request (`respondBy`); 48 by default.")
    return_days: int = strawberry.field(
        description="Days the buyer has to send goods back once a return is approved (`returnBy`); 7 by default.")
    risky_requests_in_30_days: int = strawberry.field(
        description="A buyer with this many requests in 30 days is risky (no auto-approval); 3 by default.")
    risky_tags: list[str] = strawberry.field(description="Orders with any of these tags are risky (no auto-approval).")


def _policy(channel_id: str | None, policy: Policy) -> AfterSalePolicyInfo:
    return AfterSalePolicyInfo(channel_id=strawberry.ID(channel_id) if channel_id else None, config=policy.as_config(),
                               auto_approve_refund_up_to=policy.auto_approve_refund_up_to,
                               respond_hours=policy.respond_hours, return_days=policy.return_days,
                               risky_requests_in_30_days=policy.risky_requests_in_30_days,
                               risky_tags=list(policy.risky_tags))


@strawberry.type(description="The result of setting an after-sale policy.")
class AfterSalePolicyPayload:
    policy: AfterSalePolicyInfo | None = strawberry.field(
        description="The policy now in force; null when `errors` is not empty.")
    errors: list[AfterSaleError] = strawberry.field(
        description="Why nothing changed (FORBIDDEN for roles other than admin and ops); empty on success.")


@strawberry.type
class AfterSaleQuery:
    @strawberry.field(description="The tenant's after-sales, newest first.")
    async def after_sales(
        self, info: Info, filter: Annotated[AfterSaleFilter | None, strawberry.argument(description="Narrows the list; null for all.")] = None,
        first: Annotated[int, strawberry.argument(description="1-100")] = 20, after: After = None,
    ) -> AfterSaleConnection:
        f = filter or AfterSaleFilter()
        page = await resolvers.page(
            info.context, statuses=[s.value for s in f.status or []], kinds=[k.value for k in f.kind or []],
            order_id=f.order, source=f.source.value if f.source else None, first=first, after=after)
        return AfterSaleConnection.of(page, AfterSale.from_row)

    @strawberry.field(description="One after-sale by id (only your tenant's).")
    async def after_sale(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The after-sale's id.")]) -> AfterSale | None:
        row = await resolvers.one(info.context, id)
        return AfterSale.from_row(row) if row is not None else None

    @strawberry.field(description="The after-sale policy in force for a channel (default: tenant-wide).")
    async def after_sale_policy(self, info: Info, channel: Annotated[strawberry.ID | None, strawberry.argument(description="The channel's id; null for the tenant-wide policy.")] = None) -> AfterSalePolicyInfo:
        return _policy(channel, await resolvers.effective_policy(info.context, channel))


@strawberry.type
class AfterSaleMutation:
    @strawberry.mutation(description="Open a refund, return or exchange request for lines of an order; the policy "
                         "may approve a small refund-only request at once.")
    async def request_after_sale(self, info: Info, input: Annotated[RequestAfterSaleInput, strawberry.argument(description="The request.")]) -> AfterSalePayload:
        lines = [resolvers.LineRequest(line.order_line, line.quantity, line.replacement_sku) for line in input.lines]
        photos = [resolvers.PhotoUpload(p.content_type, p.data_base64) for p in input.photos or []]
        return await _payload(lambda: resolvers.request(info.context, input.order, input.kind.value, lines,
                                                        input.reason, amount=input.amount,
                                                        external_id=input.external_id, photos=photos))

    @strawberry.mutation(description="Approve a request (returns then await the goods); at most what may still go back.")
    async def approve_after_sale(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The after-sale's id.")], amount: Annotated[Decimal | None, strawberry.argument(description="Refund kinds: the amount to refund (decimal string); the requested amount if omitted.")] = None,
                                 note: Annotated[str, strawberry.argument(description="A note for the buyer; may be empty.")] = "") -> AfterSalePayload:
        return await _payload_for(info, id, lambda: resolvers.approve(info.context, id, amount, note))

    @strawberry.mutation(description="Reject a request; the note (required) is what the buyer reads.")
    async def reject_after_sale(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The after-sale's id.")], note: Annotated[str, strawberry.argument(description="Why, shown to the buyer.")]) -> AfterSalePayload:
        return await _payload_for(info, id, lambda: resolvers.reject(info.context, id, note))

    @strawberry.mutation(description="The buyer sent the goods back with this carrier and waybill.")
    async def mark_after_sale_returned(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The after-sale's id.")], carrier: Annotated[str, strawberry.argument(description="The carrier's code or name.")],
                                       tracking_no: Annotated[str, strawberry.argument(description="The return parcel's tracking number.")]) -> AfterSalePayload:
        return await _payload_for(info, id, lambda: resolvers.mark_returned(info.context, id, carrier, tracking_no))

    @strawberry.mutation(description="The goods arrived at a warehouse: booked into quarantine until inspected.")
    async def receive_after_sale(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The after-sale's id.")], warehouse: Annotated[strawberry.ID, strawberry.argument(description="The warehouse the goods arrived at.")],
                                 lines: Annotated[list[ReceivedLineInput], strawberry.argument(description="The units that arrived, per after-sale line.")]) -> AfterSalePayload:
        received = [(line.line, line.quantity) for line in lines]
        return await _payload_for(info, id, lambda: resolvers.receive(info.context, id, warehouse, received))

    @strawberry.mutation(description="Inspect received units of a line: restocked ones become sellable, written-off "
                         "ones leave the books.")
    async def inspect_after_sale_line(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The after-sale's id.")], line: Annotated[strawberry.ID, strawberry.argument(description="The after-sale line's id.")], restock: Annotated[int, strawberry.argument(description="Units found sellable: back on hand.")] = 0,
                                      write_off: Annotated[int, strawberry.argument(description="Units found unsellable: written off.")] = 0, note: Annotated[str, strawberry.argument(description="What the inspection found.")] = "") -> AfterSalePayload:
        return await _payload_for(info, id, lambda: resolvers.inspect(info.context, id, line, restock, write_off, note))

    @strawberry.mutation(description="Pay the approved amount back (a negative payment); refused twice or above "
                         "what was paid.")
    async def refund_after_sale(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The after-sale's id.")]) -> AfterSalePayload:
        return await _payload_for(info, id, lambda: resolvers.refund(info.context, id))

    @strawberry.mutation(description="Send an exchange's replacement: a new order, allocated the normal way.")
    async def exchange_after_sale(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The after-sale's id.")]) -> AfterSalePayload:
        return await _payload_for(info, id, lambda: resolvers.exchange(info.context, id))

    @strawberry.mutation(description="Close a finished after-sale, or withdraw an unfinished one (with a note).")
    async def close_after_sale(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The after-sale's id.")], note: Annotated[str, strawberry.argument(description="Why; required to withdraw an unfinished one.")] = "") -> AfterSalePayload:
        return await _payload_for(info, id, lambda: resolvers.close(info.context, id, note))

    @strawberry.mutation(description="Set the after-sale policy for a channel, or tenant-wide without one (keys: "
                         "auto_approve_refund_up_to, respond_hours, return_days, risky_requests_in_30_days, risky_tags).")
    async def set_after_sale_policy(self, info: Info, policy: Annotated[JSON, strawberry.argument(description="The policy keys to set (see AfterSalePolicyInfo); others keep their defaults.")],
                                    channel: Annotated[strawberry.ID | None, strawberry.argument(description="The channel's id; null for the tenant-wide policy.")] = None) -> AfterSalePolicyPayload:
        try:
            _row, effective = await resolvers.save_policy(info.context, channel, policy)
        except DomainError as error:
            return AfterSalePolicyPayload(policy=None, errors=[AfterSaleError.from_domain(error)])
        return AfterSalePolicyPayload(policy=_policy(channel, effective), errors=[])

