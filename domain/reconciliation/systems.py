"""What the ERP invoiced and the WMS shipped for a batch of orders, asked through the federation ports.

    reader = SystemsReader(tenant_id, systems)
    await reader.connect()                               # the tenant's ERP connection, if any
    await reader.invoices(figures)                       # erp_quantity / erp_amount filled in: one port call
    await reader.shipped(figures)                        # wms_quantity of shipped orders: one call per WMS group

ERP: ``ErpPort.invoices`` (receivables per order number) for every order of
the batch. WMS: ``WmsPort.delivery_states`` for the delivery orders of the
orders we shipped in full, grouped by WMS connection and warehouse code;
delivery orders that never reached the WMS (``pending``, ``failed``) or were
withdrawn (``cancelled``) are not asked. An order shipped from a warehouse no
WMS runs has no WMS figure. Every round trip is kept as evidence
(``domain.federation.asking``). A system that cannot be asked (unreachable,
refused, misconfigured) is not asked again this run: its figures stay
``None`` for the rest of the orders and the run ends ``partial``, with the
reason from :meth:`SystemsReader.reasons`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from domain.federation.asking import ask
from domain.federation.breaker_config import adapter_config
from domain.federation.connections import connection_key, erp_of
from domain.federation.ports import Invoice, SystemRefused, Systems, WmsStatus
from domain.federation.views import delivery_groups
from domain.reconciliation.figures import ERP, WMS, OrderFigures
from models import SystemConnection

#: Delivery orders the WMS holds (or held): asked about.
ASKED = frozenset({"pushed", "confirmed", "cancel_pending", "cancel_refused"})
#: Seconds one port call may take (an adapter pages within it) before the system counts as unreachable.
CALL_BUDGET = 120.0


@dataclass(slots=True)
class SourceState:
    """How a system fared this run: ``ok``, ``not connected``, ``unreachable`` or ``refused``, and the orders it missed."""

    name: str
    connection: str = ""
    state: str = "ok"
    error: str = ""
    asked: int = 0
    missed: int = 0

    def shown(self) -> dict[str, object]:
        return {"connection": self.connection, "state": self.state, "error": self.error, "orders_asked": self.asked,
                "orders_missed": self.missed}


class SystemsReader:
    """One run's questions to the tenant's ERP and WMSs (see the module docstring)."""

    def __init__(self, tenant_id: int, systems: Systems, *, budget: float = CALL_BUDGET) -> None:
        self.tenant_id = tenant_id
        self.systems = systems
        self.budget = budget
        self.erp: SystemConnection | None = None
        self.sources: dict[str, SourceState] = {ERP: SourceState(ERP), WMS: SourceState(WMS)}
        self.wms_failed: dict[str, str] = {}      # WMS connection code -> why it is no longer asked

    async def connect(self) -> None:
        self.erp = await erp_of(self.tenant_id)
        if self.erp is None:
            self.sources[ERP].state = "not connected"
        else:
            self.sources[ERP].connection = self.erp.code

    # -------------------------------------------------------------- ERP

    async def invoices(self, batch: list[OrderFigures]) -> None:
        """Fill in what the ERP invoiced for each order of the batch (left ``None`` when it cannot be asked)."""
        source = self.sources[ERP]
        if self.erp is None or not batch:
            return
        if source.state != "ok":
            source.missed += len(batch)
            return
        erp = self.erp
        port = self.systems.erp(erp.adapter, adapter_config(erp.config), key=connection_key(erp))
        numbers = [figures.number for figures in batch]
        answer = await ask(self.tenant_id, erp, lambda trace: port.invoices(numbers, trace=trace), budget=self.budget,
                           operation="invoices")
        if answer.error is not None or answer.value is None:
            source.state = "refused" if isinstance(answer.error, SystemRefused) else "unreachable"
            source.error = (answer.error.message if answer.error else "no answer")[:300]
            source.missed += len(batch)
            return
        source.asked += len(batch)
        for figures in batch:
            invoice = answer.value.get(figures.number) or Invoice(order_no=figures.number, known=False)
            figures.erp_invoiced = invoice.known
            figures.erp_quantity = invoice.quantity
            figures.erp_amount = Decimal(invoice.amount or "0")
            if invoice.numbers:
                figures.notes[ERP] = f"invoices {', '.join(invoice.numbers[:3])}"

    # -------------------------------------------------------------- WMS

    async def shipped(self, batch: list[OrderFigures]) -> None:
        """Fill in what the WMS shipped for the orders of the batch that we shipped in full."""
        by_id = {figures.order_id: figures for figures in batch if figures.shipped}
        if not by_id:
            return
        source = self.sources[WMS]
        units: dict[int, int] = defaultdict(int)
        unknown: dict[int, list[str]] = defaultdict(list)
        answered: set[int] = set()
        missed: set[int] = set()
        for group in await delivery_groups(self.tenant_id, list(by_id)):
            rows = [row for row in group.rows if row.status in ASKED]
            if not rows:
                continue
            code = group.connection.code
            source.connection = ", ".join(sorted({*filter(None, source.connection.split(", ")), code}))
            if code in self.wms_failed:
                missed.update(row.order_id for row in rows)  # type: ignore[attr-defined]
                continue
            connection = group.connection
            port = self.systems.wms(connection.adapter, connection.config, key=connection_key(connection))
            codes = [row.code for row in rows]
            answer = await ask(self.tenant_id, connection,
                               lambda trace, port=port, codes=codes, where=group.warehouse_code:  # type: ignore[misc]
                               port.delivery_states(codes, where, trace=trace),
                               budget=self.budget, operation="delivery_states")
            if answer.error is not None or answer.value is None:
                self.wms_failed[code] = (answer.error.message if answer.error else "no answer")[:300]
                source.state = "refused" if isinstance(answer.error, SystemRefused) else "unreachable"
                source.error = "; ".join(f"{name}: {why}" for name, why in sorted(self.wms_failed.items()))[:300]
                missed.update(row.order_id for row in rows)  # type: ignore[attr-defined]
                continue
            for row in rows:
                order_id = row.order_id  # type: ignore[attr-defined]
                state = answer.value.get(row.code)
                answered.add(order_id)
                if state is None or state.status == WmsStatus.UNKNOWN:
                    unknown[order_id].append(row.code)
                    continue
                units[order_id] += sum(state.shipped.values())
        for order_id in answered - missed:
            figures = by_id[order_id]
            figures.wms_quantity = units[order_id]
            if unknown[order_id]:
                figures.notes[WMS] = f"the WMS does not know {', '.join(unknown[order_id])}"
        source.asked += len(answered - missed)
        source.missed += len(missed)

    # -------------------------------------------------------------- the run's verdict

    def reasons(self) -> list[str]:
        """Why the run is partial: each system that could not be asked, and what it cost."""
        found = []
        erp = self.sources[ERP]
        if erp.state == "not connected":
            found.append("no ERP is connected: invoiced quantities and amounts were not compared")
        elif erp.state != "ok":
            found.append(f"ERP {erp.connection} {erp.state} ({erp.error}): {erp.missed} orders not compared with it")
        wms = self.sources[WMS]
        if wms.state != "ok":
            found.append(f"WMS {wms.state} ({wms.error}): {wms.missed} shipped orders not compared with it")
        return found
