"""The ERP simulator behind real uvicorn, for adapter tests that talk to it over HTTP."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from adapters import system_http
from adapters.erp.kingdee import forget_sessions
from adapters.erp.sim_books import Line
from adapters.erp.simulator import ErpSimulator
from domain.federation.ports import DeliveryLine, Exchange, SalesOrderRequest
from tests.live_fixtures import serve_asgi


@dataclass
class RunningErp:
    sim: ErpSimulator
    base_url: str


@contextlib.asynccontextmanager
async def running_erp(**options: object) -> AsyncIterator[RunningErp]:
    """A fresh simulator on a free port; shared HTTP clients and kept sessions are dropped afterwards."""
    sim = ErpSimulator(**options)  # type: ignore[arg-type]
    try:
        async with serve_asgi(sim.app) as base_url:
            yield RunningErp(sim, base_url)
    finally:
        await system_http.aclose()
        forget_sessions()


def fresh_key() -> str:
    """A connection key of its own, so no other test's breaker or session is in play."""
    return f"test:{uuid.uuid4().hex[:12]}"


def sales_order(order_no: str, *lines: tuple[str, int], customer: str = "CUST-0001",
                prices: dict[str, str] | None = None) -> SalesOrderRequest:
    return SalesOrderRequest(
        order_no=order_no, customer_code=customer, warehouse_code="CK001",
        lines=tuple(DeliveryLine(line_ref=str(n), sku=sku, quantity=qty) for n, (sku, qty) in enumerate(lines, 1)),
        placed_at=datetime(2026, 11, 30, 2, 0, tzinfo=UTC), amounts=prices or {})


def seed_orders(sim: ErpSimulator, numbers: Iterable[str], *, ref_field: str = "") -> None:
    """Sales orders already in the ERP: two lines each (SKU-A x3 at 10.00, SKU-B x1 at 5.50)."""
    for number in numbers:
        lines = [Line("SKU-A", 3, Decimal("10.00"), "CK001"), Line("SKU-B", 1, Decimal("5.50"), "CK001")]
        sim.books.add_order("CUST-0001", lines, bill_no="" if ref_field else number,
                            fields={ref_field: number} if ref_field else None)


def bodies(trace: list[Exchange]) -> str:
    """Everything an exchange keeps as evidence, as one text to search."""
    return "\n".join(f"{e.url}\n{e.request_body}\n{e.response_body}\n{e.error}" for e in trace)
