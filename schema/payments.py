"""Payments in GraphQL: gateway notices (the review queue), a person's match, the gateway keys.

    query { paymentNotices(outcome: [AMBIGUOUS, UNMATCHED], first: 20) {
              edges { node { id gateway noticeId reference amount outcome reason
                             candidates { id orderNumber kind amount } } } pageInfo { endCursor } } }
    mutation { resolvePaymentNotice(id: "…", paymentId: "…") { notice { outcome payment { flags } } errors { code } } }
    mutation { savePaymentGateway(gateway: "wechatpay", config: {api_v3_key: "…", platform_certificate: "-----BEGIN…"})
               { account { gateway hookPath shown } errors { code field message } } }

``Payment`` itself (kind, normalizedReference, gatewayReference, flags,
confirmedAt) is ``schema.types.Payment``. A saved gateway's keys are never
returned: ``shown`` carries identities, certificate serials and expiry, and
which secrets are set.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.payments.kinds import NoticeOutcome
from resolvers import ids
from resolvers import payments as resolvers
from schema.errors import UserError, attempt
from schema.types import PageInfo, Payment

PaymentNoticeOutcome = strawberry.enum(  # type: ignore[misc]
    Enum("PaymentNoticeOutcome", {outcome.name: outcome.value for outcome in NoticeOutcome}),
    description="What became of a gateway notice; UNMATCHED and AMBIGUOUS wait for a person.",
)


@strawberry.type(description="A payment gateway's notification, kept whatever became of it.")
class PaymentNotice:
    id: strawberry.ID
    gateway: str
    notice_id: str = strawberry.field(description="The gateway's id for the notification (WeChat id, Alipay notify_id).")
    reference: str = strawberry.field(description="The merchant order number the gateway names (out_trade_no).")
    normalized_reference: str
    transaction_id: str = strawberry.field(description="The gateway's own payment id (transaction_id / trade_no).")
    amount: Decimal | None
    currency: str
    status: str = strawberry.field(description="The gateway's status word (SUCCESS, TRADE_SUCCESS …).")
    outcome: PaymentNoticeOutcome  # type: ignore[valid-type]
    reason: str
    resolved_by: str | None
    created_at: datetime
    payment: Payment | None = strawberry.field(description="The payment it confirmed.")
    candidates: list[Payment] = strawberry.field(description="The payments it could be about (ambiguous notices).")

    @classmethod
    def from_row(cls, row: Any, payments: dict[int, Any]) -> PaymentNotice:
        payment = payments.get(row.payment_id) if row.payment_id else None
        return cls(
            id=strawberry.ID(ids.encode("PaymentNotice", row.id)), gateway=row.gateway, notice_id=row.notice_id,
            reference=row.reference, normalized_reference=row.normalized_reference, transaction_id=row.transaction_id,
            amount=row.amount, currency=row.currency, status=row.status,
            outcome=PaymentNoticeOutcome(row.outcome), reason=row.reason, resolved_by=row.resolved_by,
            created_at=row.created_at, payment=Payment.from_row(payment) if payment is not None else None,
            candidates=[Payment.from_row(payments[pk]) for pk in row.candidates or [] if pk in payments],
        )


async def _notices(info: Info, rows: list[Any]) -> list[PaymentNotice]:
    wanted = [pk for row in rows for pk in [row.payment_id, *(row.candidates or [])] if pk]
    payments = await resolvers.payments_by_id(info.context, wanted)
    return [PaymentNotice.from_row(row, payments) for row in rows]


@strawberry.type
class PaymentNoticeEdge:
    cursor: str
    node: PaymentNotice


@strawberry.type(description="A page of gateway notices, newest first.")
class PaymentNoticeConnection:
    edges: list[PaymentNoticeEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[PaymentNotice]:
        return [edge.node for edge in self.edges]


@strawberry.type(description="The tenant's account with a payment gateway; its keys are never shown.")
class PaymentGatewayAccount:
    gateway: str
    hook_path: str = strawberry.field(description="Where the gateway posts its notices (the notify_url's path).")
    shown: JSON = strawberry.field(description="Identities, certificate serials and expiry, which secrets are set.")
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any, slug: str) -> PaymentGatewayAccount:
        return cls(gateway=row.gateway, hook_path=f"/hooks/{slug}/pay/{row.gateway}", shown=resolvers.shown(row),
                   created_at=row.created_at)


@strawberry.type
class PaymentNoticePayload:
    notice: PaymentNotice | None
    errors: list[UserError]


@strawberry.type
class PaymentGatewayPayload:
    account: PaymentGatewayAccount | None
    errors: list[UserError]


@strawberry.type
class PaymentQuery:
    @strawberry.field(description="Gateway notices, newest first; without `outcome` the review queue "
                                  "(UNMATCHED and AMBIGUOUS). `first` is 0-100.")
    async def payment_notices(
        self, info: Info, outcome: list[PaymentNoticeOutcome] | None = None,  # type: ignore[valid-type]
        first: int = 20, after: str | None = None,
    ) -> PaymentNoticeConnection:
        page = await resolvers.notices_page(info.context, [item.value for item in outcome] if outcome else None,
                                            first, after)
        nodes = await _notices(info, page.rows)
        return PaymentNoticeConnection(
            edges=[PaymentNoticeEdge(cursor=page.cursor_of(row), node=node) for row, node in zip(page.rows, nodes)],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        )

    @strawberry.field(description="The tenant's payment gateway accounts (admin); keys are never shown.")
    async def payment_gateways(self, info: Info) -> list[PaymentGatewayAccount]:
        rows = await resolvers.gateway_accounts(info.context)
        slug = await resolvers.tenant_slug(info.context)
        return [PaymentGatewayAccount.from_row(row, slug) for row in rows]


@strawberry.type
class PaymentMutation:
    @strawberry.mutation(description="Say which payment an unmatched or ambiguous notice is about: the payment is "
                                     "confirmed with it (admin, ops, finance).")
    async def resolve_payment_notice(self, info: Info, id: strawberry.ID, payment_id: strawberry.ID) -> PaymentNoticePayload:
        row, errors = await attempt(lambda: resolvers.resolve_notice(info.context, id, payment_id))
        notice = (await _notices(info, [row]))[0] if row is not None else None
        return PaymentNoticePayload(notice=notice, errors=errors)

    @strawberry.mutation(description="Save a payment gateway's keys (admin): wechatpay {api_v3_key, "
                                     "platform_certificate, mchid} or alipay {alipay_public_key, app_id}. Given keys "
                                     "replace the stored ones, null removes one; sealed at rest, never returned.")
    async def save_payment_gateway(self, info: Info, gateway: str, config: JSON) -> PaymentGatewayPayload:
        row, errors = await attempt(lambda: resolvers.save_gateway(info.context, gateway, config))
        account = PaymentGatewayAccount.from_row(row, await resolvers.tenant_slug(info.context)) if row else None
        return PaymentGatewayPayload(account=account, errors=errors)
