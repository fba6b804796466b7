"""Glue from the federation queries and mutations to ``domain.federation``: ids in, use cases called, rows out."""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import NotFound, ValidationFailed
from domain.federation import drift_breaker, failure_rate, repair
from domain.federation.diagnose import MAX_ORDERS, diagnose
from domain.federation.diagnosis import Diagnosis
from domain.federation.evidence import REF_PREFIX
from models import Alert, Order, SystemExchange, WarehouseSystems
from resolvers import ids
from resolvers.context import Context
from resolvers.federation_loaders import federation, runtime_of
from resolvers.orders import actor_of, pk_of


async def diagnose_orders(ctx: Context, order_ids: Sequence[str]) -> list[Diagnosis]:
    if not 1 <= len(order_ids) <= MAX_ORDERS:
        raise ValidationFailed(f"name 1 to {MAX_ORDERS} orders", field="orders")
    pks = [pk_of(gid, "Order") for gid in order_ids]
    runtime = runtime_of(ctx)
    return await diagnose(actor_of(ctx), pks, runtime.systems, budget=max(runtime.budget_seconds, 1.0))


async def apply_confirmation(ctx: Context, order: str, reason: str) -> Order:
    return await repair.apply_wms_confirmation(actor_of(ctx), pk_of(order, "Order"), runtime_of(ctx).systems, reason=reason)


async def repush(ctx: Context, order: str, reason: str) -> Order:
    return await repair.repush_to_wms(actor_of(ctx), pk_of(order, "Order"), reason)


async def resync(ctx: Context, order: str, reason: str) -> Order:
    return await repair.resync_from_channel(actor_of(ctx), pk_of(order, "Order"), reason)


async def escalate(ctx: Context, order: str, code: str, reason: str) -> Alert:
    return await repair.escalate(actor_of(ctx), pk_of(order, "Order"), code, reason)


async def check_drift(ctx: Context, warehouse: str) -> drift_breaker.DriftReport:
    runtime = runtime_of(ctx)
    return await drift_breaker.check_warehouse(pk_of(warehouse, "Warehouse"), runtime.systems, actor=actor_of(ctx),
                                               budget=max(runtime.budget_seconds, 10.0))


async def reset_breaker(ctx: Context, warehouse: str, reason: str) -> WarehouseSystems:
    row = await drift_breaker.reset_breaker(actor_of(ctx), pk_of(warehouse, "Warehouse"), reason)
    await row.fetch_related("wms")
    return row


async def link_of(ctx: Context, warehouse_pk: int) -> WarehouseSystems | None:
    return await federation(ctx).breaker.load(warehouse_pk)


async def failure_rates(ctx: Context, days: int) -> list[failure_rate.ConnectionRate]:
    return await failure_rate.failure_rates(actor_of(ctx).tenant_id, days)


async def exchange(ctx: Context, global_id: str | None, ref: str | None) -> SystemExchange | None:
    """An exchange of the caller's tenant by global id or by lineage's ``exchange:<n>``; None when neither names one."""
    if (global_id is None) == (ref is None):
        raise ValidationFailed("give either id or ref", field="id")
    if ref is not None:
        text = ref.strip()
        if not text.startswith(REF_PREFIX) or not text[len(REF_PREFIX):].isdigit() or len(text) > 30:
            raise ValidationFailed(f"a lineage reference looks like {REF_PREFIX}1234", field="ref")
        pk = int(text[len(REF_PREFIX):])
    else:
        try:
            pk = ids.decode(global_id or "", "SystemExchange")[1]
        except ids.BadId as error:
            raise NotFound(str(error), field="id") from None
    return await federation(ctx).exchange.load(pk)
