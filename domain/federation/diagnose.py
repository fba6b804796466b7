"""Diagnosing orders across OrderGraph, the channel, the ERP, the WMS and the carriers.

    diagnoses = await diagnose(actor, [42], SYSTEMS, budget=3.0)
    diagnoses[0].verdict                      # RED
    diagnoses[0].discrepancies[0].message    # "WMS is ahead of OrderGraph: it shipped …"

The ERP (one call for every order), each WMS (one call per warehouse code)
and the WMS stock of the reserved SKUs are asked at once, each as soon as
what it needs is known, while our own facts load (one query per table): a
diagnosis costs the slowest system, not the sum. An exchange that contradicts what we
know is marked ``disagreed`` so the cross-system failure rate counts it. The
only writes are that evidence: deciding is ``diagnosis.judge``, repairing is
``repair``.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from domain.actor import Actor
from domain.errors import ValidationFailed
from domain.federation import evidence, facts
from domain.federation.asking import Answer
from domain.federation.connections import erp_of
from domain.federation.diagnosis import Delivery, Diagnosis, Evidence, System, Unreachable, judge
from domain.federation.ports import DeliveryState, SalesOrderState, StockFigure, Systems
from domain.federation.views import DeliveryGroup, ask_deliveries, ask_sales_orders, ask_stock, delivery_groups
from domain.stock.reservations import ReservationStatus
from models import Order, Reservation, SystemConnection
from models.order import order_no

T = TypeVar("T")
#: The most orders one ``diagnose`` may name.
MAX_ORDERS = 100


def _unreachable(system: System, answer: Answer) -> Unreachable:
    error = answer.error
    assert error is not None
    return Unreachable(system=system, connection=answer.connection, code=error.code or type(error).__name__,
                       message=error.message[:300], exchange_ids=tuple(answer.exchange_ids))


async def diagnose(actor: Actor, order_ids: Sequence[int], systems: Systems, *, budget: float | None = None) -> list[Diagnosis]:
    """One diagnosis per order of the caller's tenant (others are left out), in the order asked."""
    wanted = list(dict.fromkeys(order_ids))
    if not 1 <= len(wanted) <= MAX_ORDERS:
        raise ValidationFailed(f"name 1 to {MAX_ORDERS} orders", field="orders")
    started = time.perf_counter()
    tenant = actor.tenant_id
    mine = set(await Order.filter(tenant_id=tenant, id__in=wanted).values_list("id", flat=True))
    ids = [order_id for order_id in wanted if order_id in mine]
    if not ids:
        return []
    # Each outside question starts as soon as what it needs is known; our own facts load meanwhile.
    erp, groups, reserved = await asyncio.gather(
        erp_of(tenant), delivery_groups(tenant, ids),
        Reservation.filter(order_id__in=ids, status=ReservationStatus.ACTIVE).values_list("warehouse_id", "sku"))
    asked: list[asyncio.Task] = []
    try:
        erp_task = _start(asked, ask_sales_orders(tenant, erp, ids, systems, budget=budget) if erp else _nothing())
        wms_tasks = [_start(asked, ask_deliveries(tenant, group, systems, budget=budget)) for group in groups]
        links = await facts.wms_warehouses(tenant, {w for w, _ in reserved} | {g.rows[0].warehouse_id for g in groups})  # type: ignore[attr-defined]
        stock_questions = _stock_questions(reserved, links)
        stock_tasks = [_start(asked, ask_stock(tenant, connection, code, sorted(skus), systems, budget=budget))
                       for (connection, code, _), skus in stock_questions.items()]
        known = await facts.load(tenant, ids)
        ids = [order_id for order_id in ids if order_id in known]
        erp_answer = await erp_task
        wms_answers: list[Answer[dict[str, DeliveryState]]] = list(await asyncio.gather(*wms_tasks))
        stock_answers: list[Answer[dict[str, StockFigure]]] = list(await asyncio.gather(*stock_tasks))
    finally:
        for task in asked:
            task.cancel()

    now = datetime.now(UTC)
    evidences = {order_id: Evidence(order=known[order_id], now=now, wms_warehouses=set(links),
                                    breakers={w: link.breaker_reason or "stock drift" for w, link in links.items()
                                              if link.breaker_open})
                 for order_id in ids}
    _place_erp(evidences, erp_answer)
    _place_deliveries(evidences, groups, wms_answers)
    _place_stock(evidences, list(stock_questions.items()), stock_answers)
    found = []
    disagreed: set[int] = set()
    for order_id in ids:
        diagnosis = judge(evidences[order_id])
        diagnosis.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        found.append(diagnosis)
        for discrepancy in diagnosis.discrepancies:
            if discrepancy.out_of_line != System.CARRIER:
                disagreed.update(discrepancy.exchange_ids)
    if disagreed:
        await evidence.mark_disagreed(sorted(disagreed), "the answer contradicts OrderGraph (see the order's diagnosis)")
    return found


async def _nothing() -> None:
    return None


def _start(tasks: list[asyncio.Task], job: Awaitable[T]) -> asyncio.Task[T]:
    task = asyncio.ensure_future(job)
    tasks.append(task)
    return task


def _stock_questions(reserved: Sequence[tuple[int, str]], links: dict) -> dict[tuple[SystemConnection, str, int], set[str]]:
    """(WMS, its warehouse code, our warehouse id) -> SKUs reserved there by the orders (live reservations)."""
    questions: dict[tuple[SystemConnection, str, int], set[str]] = defaultdict(set)
    by_warehouse: dict[int, tuple[SystemConnection, str, int]] = {}
    for warehouse_id, sku in reserved:
        link = links.get(warehouse_id)
        if link is None:
            continue
        key = by_warehouse.setdefault(warehouse_id, (link.wms, link.wms_warehouse_code, warehouse_id))
        questions[key].add(sku)
    return questions


def _place_erp(evidences: dict[int, Evidence], answer: Answer[dict[int, SalesOrderState]] | None) -> None:
    if answer is None:
        return
    for order_id, ev in evidences.items():
        if answer.error is not None:
            ev.unreachable.append(_unreachable(System.ERP, answer))
            continue
        ev.erp = (answer.value or {}).get(order_id)
        ev.erp_exchange_ids = tuple(answer.evidence_about(order_no(order_id)))


def _place_deliveries(evidences: dict[int, Evidence], groups: list[DeliveryGroup],
                      answers: list[Answer[dict[str, DeliveryState]]]) -> None:
    for group, answer in zip(groups, answers, strict=True):
        states = answer.value or {}
        for row in group.rows:
            ev = evidences.get(row.order_id)  # type: ignore[attr-defined]
            if ev is None:
                continue
            if answer.error is not None and not any(u.connection == answer.connection for u in ev.unreachable):
                ev.unreachable.append(_unreachable(System.WMS, answer))
            ev.deliveries.append(Delivery(
                id=row.id, code=row.code, warehouse_id=row.warehouse_id, status=row.status,  # type: ignore[attr-defined]
                pushed_at=row.pushed_at, created_at=row.created_at, event_id=row.event_id, last_error=row.last_error,
                attempts=row.attempts, wms=states.get(row.code) if answer.error is None else None,
                exchange_ids=tuple(answer.evidence_about(row.code))))


def _place_stock(evidences: dict[int, Evidence], questions: list[tuple[tuple[SystemConnection, str, int], set[str]]],
                 answers: list[Answer[dict[str, StockFigure]]]) -> None:
    """Each order sees the WMS's on-hand of the SKUs reserved in its warehouses; a SKU the WMS left out has none."""
    for ((_, _, warehouse_id), skus), answer in zip(questions, answers, strict=True):
        for ev in evidences.values():
            if not any(r.warehouse_id == warehouse_id for r in ev.order.reservations):
                continue
            if answer.error is not None:
                if not any(u.connection == answer.connection for u in ev.unreachable):
                    ev.unreachable.append(_unreachable(System.WMS, answer))
                continue
            said = answer.value or {}
            for sku in skus:
                ev.wms_stock[(warehouse_id, sku)] = said.get(sku) or StockFigure(sku=sku, on_hand=0)  # type: ignore[index]
            ev.stock_exchange_ids[warehouse_id] = tuple(answer.exchange_ids)  # type: ignore[index]
