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
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.payments.kinds import NoticeOutcome
from resolvers import ids
from resolvers import payments as resolvers
from schema.arguments import After, First
from schema.enum_values import describe_values
from schema.errors import UserError, attempt
from schema.connections import Connection
from schema.types import Payment

PaymentNoticeOutcome = describe_values(strawberry.enum(  # type: ignore[misc]
    Enum("PaymentNoticeOutcome", {outcome.name: outcome.value for outcome in NoticeOutcome}),
    description="What became of a gateway notice; UNMATCHED and AMBIGUOUS wait for a person.",
), {
    "APPLIED": "Matched one payment and confirmed it.",
    "DUPLICATE": "Seen before (same notice id, or the same transaction again): nothing re-applied.",
    "UNMATCHED": "No payment of yours has this reference: a person looks (resolvePaymentNotice).",
    "AMBIGUOUS": "Several payments could be it: a person picks one (resolvePaymentNotice).",
    "REFUSED": "Bad signature, malformed, unknown account, or it would count money twice.",
    "IGNORED": "Authentic but not a payment (a closed trade, a refund notice): kept, nothing to do.",
    "RESOLVED": "A person matched it to a payment.",
})


@strawberry.type(description="A payment gateway's notification, kept whatever became of it.")
class PaymentNotice:
    id: strawberry.ID = strawberry.field(description="The notice's id.")
    gateway: str = strawberry.field(description="The gateway: `wechatpay` or `alipay`.")
    notice_id: str = strawberry.field(description="The gateway's id for the notification (WeChat id, Alipay notify_id).")
    reference: str = strawberry.field(description="The merchant order number the gateway names (out_trade_no).")
    normalized_reference: str = strawberry.field(
        description="The reference as matching compares it (prefixes, separators and case removed).")
    transaction_id: str = strawberry.field(description="The gateway's own payment id (transaction_id / trade_no).")
    amount: Decimal | None = strawberry.field(
        description="The amount the gateway says was paid (decimal string in `currency`); null if it did not say.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. CNY.")
    status: str = strawberry.field(description="The gateway's status word (SUCCESS, TRADE_SUCCESS …).")
    outcome: PaymentNoticeOutcome = strawberry.field(description="What became of it.")  # type: ignore[valid-type]
    reason: str = strawberry.field(description="Why, in words (e.g. why it was refused).")
    resolved_by: str | None = strawberry.field(description="Who matched it by hand; null otherwise.")
    created_at: datetime = strawberry.field(description="When it arrived (UTC).")
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


@strawberry.type(description="One notice of a page, with its cursor.")
class PaymentNoticeEdge:
    cursor: str = strawberry.field(description="Opaque cursor; pass it as `after` to get the notices after this one.")
    node: PaymentNotice = strawberry.field(description="The notice.")


@strawberry.type(description="A page of gateway notices, newest first.")
class PaymentNoticeConnection(Connection[PaymentNotice]):
    edges: list[PaymentNoticeEdge] = strawberry.field(description="The page's notices, each with its cursor.")


@strawberry.type(description="The tenant's account with a payment gateway; its keys are never shown.")
class PaymentGatewayAccount:
    gateway: str = strawberry.field(description="The gateway: `wechatpay` or `alipay`.")
    hook_path: str = strawberry.field(description="Where the gateway posts its notices (the notify_url's path).")
    shown: JSON = strawberry.field(description="Identities, certificate serials and expiry, which secrets are set.")
    created_at: datetime = strawberry.field(description="When it was saved (UTC).")

    @classmethod
    def from_row(cls, row: Any, slug: str) -> PaymentGatewayAccount:
        return cls(gateway=row.gateway, hook_path=f"/hooks/{slug}/pay/{row.gateway}", shown=resolvers.shown(row),
                   created_at=row.created_at)


@strawberry.type(description="The result of resolving a notice.")
class PaymentNoticePayload:
    notice: PaymentNotice | None = strawberry.field(description="The notice as it is now; null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type(description="The result of saving a gateway account.")
class PaymentGatewayPayload:
    account: PaymentGatewayAccount | None = strawberry.field(
        description="The account as stored (keys never shown); null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(
        description="Why nothing changed (VALIDATION names the bad key; FORBIDDEN for non-admins); empty on success.")


@strawberry.type
class PaymentQuery:
    @strawberry.field(description="Gateway notices, newest first; without `outcome` the review queue "
                                  "(UNMATCHED and AMBIGUOUS). `first` is 0-100.")
    async def payment_notices(
        self, info: Info, outcome: Annotated[list[PaymentNoticeOutcome] | None, strawberry.argument(description="Only these outcomes; UNMATCHED and AMBIGUOUS (the review queue) if omitted.")] = None,  # type: ignore[valid-type]
        first: First = 20, after: After = None,
    ) -> PaymentNoticeConnection:
        page = await resolvers.notices_page(info.context, [item.value for item in outcome] if outcome else None,
                                            first, after)
        nodes = dict(zip((row.id for row in page.rows), await _notices(info, page.rows)))
        return PaymentNoticeConnection.of(page, lambda row: nodes[row.id], edge=PaymentNoticeEdge)

    @strawberry.field(description="The tenant's payment gateway accounts (admin); keys are never shown.")
    async def payment_gateways(self, info: Info) -> list[PaymentGatewayAccount]:
        rows = await resolvers.gateway_accounts(info.context)
        slug = await resolvers.tenant_slug(info.context)
        return [PaymentGatewayAccount.from_row(row, slug) for row in rows]


@strawberry.type
class PaymentMutation:
    @strawberry.mutation(description="Say which payment an unmatched or ambiguous notice is about: the payment is "
                                     "confirmed with it (admin, ops, finance).")
    async def resolve_payment_notice(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The notice's id.")], payment_id: Annotated[strawberry.ID, strawberry.argument(description="The payment it is about (a `Payment` id).")]) -> PaymentNoticePayload:
        row, errors = await attempt(lambda: resolvers.resolve_notice(info.context, id, payment_id))
        notice = (await _notices(info, [row]))[0] if row is not None else None
        return PaymentNoticePayload(notice=notice, errors=errors)

    @strawberry.mutation(description="Save a payment gateway's keys (admin): wechatpay {api_v3_key, "
                                     "platform_certificate, mchid} or alipay {alipay_public_key, app_id}. Given keys "
                                     "replace the stored ones, null removes one; sealed at rest, never returned.")
    async def save_payment_gateway(self, info: Info, gateway: Annotated[str, strawberry.argument(description="`wechatpay` or `alipay`.")], config: Annotated[JSON, strawberry.argument(description="The gateway's keys and identities (see the mutation's description).")]) -> PaymentGatewayPayload:
        row, errors = await attempt(lambda: resolvers.save_gateway(info.context, gateway, config))
        account = PaymentGatewayAccount.from_row(row, await resolvers.tenant_slug(info.context)) if row else None
        return PaymentGatewayPayload(account=account, errors=errors)
