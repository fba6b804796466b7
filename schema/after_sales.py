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
from schema.enums import ErrorCode
from schema.errors import short
from schema.types import PageInfo


@strawberry.type(description="Why an after-sale mutation did not apply. Nothing was changed.")
class AfterSaleError:
    code: ErrorCode
    message: str
    field: str | None = None
    from_status: AfterSaleStatus | None = None
    to_status: AfterSaleStatus | None = None

    @classmethod
    def from_domain(cls, error: DomainError) -> AfterSaleError:
        if isinstance(error, IllegalAfterSaleMove):
            return cls(code=ErrorCode.ILLEGAL_TRANSITION, message=short(error.message), field=error.field,
                       from_status=AfterSaleStatus(error.from_status), to_status=AfterSaleStatus(error.to_status))
        return cls(code=ErrorCode(error.code), message=short(error.message), field=short(error.field or "", 200) or None)


@strawberry.type
class AfterSalePayload:
    after_sale: AfterSale | None
    errors: list[AfterSaleError]


async def _payload(action: Callable[[], Awaitable[Any]]) -> AfterSalePayload:
    try:
        row = await action()
    except DomainError as error:
        return AfterSalePayload(after_sale=None, errors=[AfterSaleError.from_domain(error)])
    return AfterSalePayload(after_sale=AfterSale.from_row(row), errors=[])


@strawberry.type
class AfterSaleConnection:
    nodes: list[AfterSale]
    page_info: PageInfo


@strawberry.input
class AfterSaleFilter:
    status: list[AfterSaleStatus] | None = None
    kind: list[AfterSaleKind] | None = None
    order: strawberry.ID | None = strawberry.field(default=None, description="Only this order's after-sales.")
    source: AfterSaleSource | None = None


@strawberry.input
class AfterSaleLineInput:
    order_line: strawberry.ID
    quantity: int
    replacement_sku: str | None = strawberry.field(default=None, description="Exchanges: send this SKU instead.")


@strawberry.input
class AfterSalePhotoInput:
    content_type: str = strawberry.field(description="What the client says it is; the bytes decide.")
    data_base64: str = strawberry.field(description="JPEG, PNG or WebP, at most 2 MB.")


@strawberry.input
class RequestAfterSaleInput:
    order: strawberry.ID
    kind: AfterSaleKind
    lines: list[AfterSaleLineInput]
    reason: str
    amount: Decimal | None = strawberry.field(default=None, description="Refund kinds: default the lines' price "
                                              "share, capped at what may still go back.")
    external_id: str | None = strawberry.field(default=None, description="An id of yours: a repeat returns the same after-sale.")
    photos: list[AfterSalePhotoInput] | None = strawberry.field(default=None, description="At most 5.")


@strawberry.input
class ReceivedLineInput:
    line: strawberry.ID = strawberry.field(description="An AfterSaleLine id.")
    quantity: int


@strawberry.type(description="The after-sale policy in force for a channel (or tenant-wide): its JSON and what it means.")
class AfterSalePolicyInfo:
    channel_id: strawberry.ID | None
    config: JSON
    auto_approve_refund_up_to: Decimal
    respond_hours: int
    return_days: int
    risky_requests_in_30_days: int
    risky_tags: list[str]


def _policy(channel_id: str | None, policy: Policy) -> AfterSalePolicyInfo:
    return AfterSalePolicyInfo(channel_id=strawberry.ID(channel_id) if channel_id else None, config=policy.as_config(),
                               auto_approve_refund_up_to=policy.auto_approve_refund_up_to,
                               respond_hours=policy.respond_hours, return_days=policy.return_days,
                               risky_requests_in_30_days=policy.risky_requests_in_30_days,
                               risky_tags=list(policy.risky_tags))


@strawberry.type
class AfterSalePolicyPayload:
    policy: AfterSalePolicyInfo | None
    errors: list[AfterSaleError]


@strawberry.type
class AfterSaleQuery:
    @strawberry.field(description="The tenant's after-sales, newest first.")
    async def after_sales(
        self, info: Info, filter: AfterSaleFilter | None = None,
        first: Annotated[int, strawberry.argument(description="1-100")] = 20, after: str | None = None,
    ) -> AfterSaleConnection:
        f = filter or AfterSaleFilter()
        page = await resolvers.page(
            info.context, statuses=[s.value for s in f.status or []], kinds=[k.value for k in f.kind or []],
            order_id=f.order, source=f.source.value if f.source else None, first=first, after=after)
        return AfterSaleConnection(nodes=[AfterSale.from_row(row) for row in page.rows],
                                   page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor))

    @strawberry.field(description="One after-sale by id (only your tenant's).")
    async def after_sale(self, info: Info, id: strawberry.ID) -> AfterSale | None:
        row = await resolvers.one(info.context, id)
        return AfterSale.from_row(row) if row is not None else None

    @strawberry.field(description="The after-sale policy in force for a channel (default: tenant-wide).")
    async def after_sale_policy(self, info: Info, channel: strawberry.ID | None = None) -> AfterSalePolicyInfo:
        return _policy(channel, await resolvers.effective_policy(info.context, channel))


@strawberry.type
class AfterSaleMutation:
    @strawberry.mutation(description="Open a refund, return or exchange request for lines of an order; the policy "
                         "may approve a small refund-only request at once.")
    async def request_after_sale(self, info: Info, input: RequestAfterSaleInput) -> AfterSalePayload:
        lines = [resolvers.LineRequest(line.order_line, line.quantity, line.replacement_sku) for line in input.lines]
        photos = [resolvers.PhotoUpload(p.content_type, p.data_base64) for p in input.photos or []]
        return await _payload(lambda: resolvers.request(info.context, input.order, input.kind.value, lines,
                                                        input.reason, amount=input.amount,
                                                        external_id=input.external_id, photos=photos))

    @strawberry.mutation(description="Approve a request (returns then await the goods); at most what may still go back.")
    async def approve_after_sale(self, info: Info, id: strawberry.ID, amount: Decimal | None = None,
                                 note: str = "") -> AfterSalePayload:
        return await _payload(lambda: resolvers.approve(info.context, id, amount, note))

    @strawberry.mutation(description="Reject a request; the note (required) is what the buyer reads.")
    async def reject_after_sale(self, info: Info, id: strawberry.ID, note: str) -> AfterSalePayload:
        return await _payload(lambda: resolvers.reject(info.context, id, note))

    @strawberry.mutation(description="The buyer sent the goods back with this carrier and waybill.")
    async def mark_after_sale_returned(self, info: Info, id: strawberry.ID, carrier: str,
                                       tracking_no: str) -> AfterSalePayload:
        return await _payload(lambda: resolvers.mark_returned(info.context, id, carrier, tracking_no))

    @strawberry.mutation(description="The goods arrived at a warehouse: booked into quarantine until inspected.")
    async def receive_after_sale(self, info: Info, id: strawberry.ID, warehouse: strawberry.ID,
                                 lines: list[ReceivedLineInput]) -> AfterSalePayload:
        received = [(line.line, line.quantity) for line in lines]
        return await _payload(lambda: resolvers.receive(info.context, id, warehouse, received))

    @strawberry.mutation(description="Inspect received units of a line: restocked ones become sellable, written-off "
                         "ones leave the books.")
    async def inspect_after_sale_line(self, info: Info, id: strawberry.ID, line: strawberry.ID, restock: int = 0,
                                      write_off: int = 0, note: str = "") -> AfterSalePayload:
        return await _payload(lambda: resolvers.inspect(info.context, id, line, restock, write_off, note))

    @strawberry.mutation(description="Pay the approved amount back (a negative payment); refused twice or above "
                         "what was paid.")
    async def refund_after_sale(self, info: Info, id: strawberry.ID) -> AfterSalePayload:
        return await _payload(lambda: resolvers.refund(info.context, id))

    @strawberry.mutation(description="Send an exchange's replacement: a new order, allocated the normal way.")
    async def exchange_after_sale(self, info: Info, id: strawberry.ID) -> AfterSalePayload:
        return await _payload(lambda: resolvers.exchange(info.context, id))

    @strawberry.mutation(description="Close a finished after-sale, or withdraw an unfinished one (with a note).")
    async def close_after_sale(self, info: Info, id: strawberry.ID, note: str = "") -> AfterSalePayload:
        return await _payload(lambda: resolvers.close(info.context, id, note))

    @strawberry.mutation(description="Set the after-sale policy for a channel, or tenant-wide without one (keys: "
                         "auto_approve_refund_up_to, respond_hours, return_days, risky_requests_in_30_days, risky_tags).")
    async def set_after_sale_policy(self, info: Info, policy: JSON,
                                    channel: strawberry.ID | None = None) -> AfterSalePolicyPayload:
        try:
            _row, effective = await resolvers.save_policy(info.context, channel, policy)
        except DomainError as error:
            return AfterSalePolicyPayload(policy=None, errors=[AfterSaleError.from_domain(error)])
        return AfterSalePolicyPayload(policy=_policy(channel, effective), errors=[])

