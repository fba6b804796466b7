"""GraphQL glue for payments: the notice review queue, a person's match, and the gateway keys.

Reading notices is for admins, ops, finance and auditors; matching for admins,
ops and finance; saving gateway keys for admins (the checks are in
``domain.payments``). Pages are newest first, keyset on the notice id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.payments import GATEWAYS
from domain.payments import accounts, review
from domain.payments.kinds import TO_REVIEW
from models import Payment, PaymentGatewayAccount, PaymentNotice, Tenant
from resolvers.context import Context
from resolvers.orders import actor_of, pk_of
from resolvers.pagination import Page, check_page_size, keyset_page


async def notices_page(ctx: Context, outcomes: Sequence[str] | None, first: int, after: str | None) -> Page:
    """One page of the tenant's notices with these outcomes (the review queue when ``None``), newest first."""
    check_page_size(first, ctx.max_page_size)
    wanted = list(outcomes) if outcomes else [outcome.value for outcome in TO_REVIEW]
    return await keyset_page(review.notice_query(actor_of(ctx), wanted), "id", descending=True, first=first, after=after)


async def payments_by_id(ctx: Context, payment_ids: Sequence[int]) -> dict[int, Payment]:
    """The tenant's payments among ``payment_ids`` (one query for a whole page's candidates)."""
    if not payment_ids:
        return {}
    rows = await Payment.filter(id__in=list(set(payment_ids)), order__tenant_id=actor_of(ctx).tenant_id)
    return {row.id: row for row in rows}


async def resolve_notice(ctx: Context, notice_id: str, payment_id: str) -> PaymentNotice:
    return await review.resolve_notice(actor_of(ctx), pk_of(notice_id, "PaymentNotice"), pk_of(payment_id, "Payment"))


async def save_gateway(ctx: Context, gateway: str, config: Any) -> PaymentGatewayAccount:
    return await accounts.save_account(actor_of(ctx), gateway, config, gateways=GATEWAYS)


async def gateway_accounts(ctx: Context) -> list[PaymentGatewayAccount]:
    return await accounts.accounts(actor_of(ctx))


def shown(account: PaymentGatewayAccount) -> dict[str, Any]:
    """What may be shown of an account's keys (never a secret)."""
    gateway = GATEWAYS.get(account.gateway)
    return gateway.describe(account.config) if gateway else {}


async def tenant_slug(ctx: Context) -> str:
    return await Tenant.filter(id=actor_of(ctx).tenant_id).first().values_list("slug", flat=True)  # type: ignore[return-value]
