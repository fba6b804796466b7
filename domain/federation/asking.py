"""Asking an ERP or WMS one question within a time budget, and keeping the round trips as evidence.

    answer = await ask(tenant_id, connection, lambda trace: erp.sales_orders(nos, trace=trace), budget=2.0)
    if answer.error: ...        # SystemUnavailable / SystemRefused, never raised
    answer.value, answer.exchange_ids

Reads (federated fields, diagnosis, the drift check) never let one system's
failure or slowness reach beyond its own answer: a call that outlives its
budget is abandoned and recorded as a ``timeout`` exchange, so the
cross-system failure rate counts it like any other failure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from domain.federation import evidence
from domain.federation.ports import Exchange, SystemError_, SystemUnavailable
from models import SystemConnection

T = TypeVar("T")


@dataclass(slots=True)
class Answer(Generic[T]):
    """What one system said (``value``) or why it could not (``error``), and the evidence either way."""

    system: str
    connection: str
    value: T | None = None
    error: SystemError_ | None = None
    exchange_ids: list[int] = field(default_factory=list)
    trace: list[Exchange] = field(default_factory=list)
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def evidence_id(self) -> int | None:
        """The last exchange: the answer (or failure) the value came from."""
        return self.exchange_ids[-1] if self.exchange_ids else None

    def evidence_about(self, needle: str) -> list[int]:
        """The exchanges whose request or answer mentions ``needle`` (a code, an order number); all when none does.

        An adapter may need several round trips for one question (Qimen asks
        about one delivery order per request): a discrepancy cites the ones
        about its own order.
        """
        found = [exchange_id for exchange_id, exchange in zip(self.exchange_ids, self.trace, strict=False)
                 if needle and (needle in exchange.request_body or needle in exchange.response_body)]
        return found or list(self.exchange_ids)


async def ask(tenant_id: int, connection: SystemConnection, call: Callable[[list[Exchange]], Awaitable[T]], *,
              budget: float | None = None, order_id: int | None = None, operation: str = "") -> Answer[T]:
    """Run ``call(trace)`` within ``budget`` seconds; keep every exchange; return the value or the error."""
    trace: list[Exchange] = []
    answer: Answer[T] = Answer(system=connection.kind, connection=connection.code)
    started = time.perf_counter()
    try:
        if budget is None:
            answer.value = await call(trace)
        else:
            answer.value = await asyncio.wait_for(call(trace), timeout=max(budget, 0.001))
    except TimeoutError:
        answer.error = SystemUnavailable(f"{connection.kind} {connection.code}: no answer within the "
                                         f"{budget:g} s budget", code="TIMEOUT")
        trace.append(Exchange(system=connection.kind, operation=(operation or "query")[:48], method="", url="",
                              request_body="", status_code=None, response_body="", outcome="timeout",
                              elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
                              error=answer.error.message))
    except SystemError_ as error:
        answer.error = error
    answer.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
    answer.trace = trace
    answer.exchange_ids = await evidence.keep(tenant_id, connection, trace, order_id=order_id)
    return answer
