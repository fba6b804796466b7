"""Keeping every exchange with an ERP or WMS as evidence, and pointing lineage at it.

    trace: list[Exchange] = []
    try:
        await wms.push_delivery(request, trace=trace)
    finally:
        ids = await keep(tenant_id, connection, trace, order_id=order.id)
    # lineage: payload_ref=ref(ids[-1]) -> "exchange:1234"

The bodies arrive already redacted by the adapter (no secrets, personal data
masked); here they are stored as they are. Every outgoing call passes here,
so here it also counts towards its system being reachable or not
(``reachability``). ``disagreed`` marks an exchange that
answered but contradicts what OrderGraph knows, so the cross-system failure
rate counts it.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.federation import reachability
from domain.federation.ports import Exchange
from models import SystemConnection, SystemExchange

REF_PREFIX = "exchange:"
#: Outcomes the cross-system failure rate counts as failed.
FAILED = ("error", "timeout", "unreachable", "disagreed")


def ref(exchange_id: int) -> str:
    return f"{REF_PREFIX}{exchange_id}"


async def keep(tenant_id: int, connection: SystemConnection | None, trace: Sequence[Exchange], *,
               order_id: int | None = None) -> list[int]:
    """Store the exchanges (in the caller's transaction, if any) and count the call; their ids, in order."""
    ids = []
    for exchange in trace:
        row = await SystemExchange.create(
            tenant_id=tenant_id, connection_id=connection.id if connection else None, system=exchange.system,
            operation=exchange.operation[:48], direction=exchange.direction, order_id=order_id,
            method=exchange.method[:8], url=exchange.url[:500], request_body=exchange.request_body,
            status_code=exchange.status_code, response_body=exchange.response_body, outcome=exchange.outcome,
            error=exchange.error[:500], elapsed_ms=exchange.elapsed_ms)
        ids.append(row.id)
    await reachability.note_call(tenant_id, connection, trace)
    return ids


async def mark_disagreed(exchange_ids: Sequence[int], why: str) -> None:
    """An answer that contradicts OrderGraph (e.g. the WMS says shipped and we never heard): counted as a failure."""
    if exchange_ids:
        await SystemExchange.filter(id__in=list(exchange_ids), outcome="ok").update(outcome="disagreed", error=why[:500])
