"""Judging OrderGraph against the truth: every order on every dimension, every fault's alert, every event.

    verdict = judge_orders(day, systems, await all_orders(client))   # OrderGraph's view (GraphQL) vs the truth
    verdict.disagreements                          # [Disagreement(...)], each with the reason in words
    judge_alerts(fault, alert_events)              # when OrderGraph raised (and cleared) the fault's alert

OrderGraph is read the way its users read it — through ``/graphql`` with an
admin key — and the truth is what the simulators hold when the judge looks:
the shops' orders, each WMS's delivery orders and parcels, the carrier's scans.
When an alert went up and came down is read from the alerts' own lineage rows.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from chaos.day import CANCELLED, Day
from chaos.result import DIMENSIONS, Disagreement, Fault
from chaos.systems import Systems

ORDERS = """
query ChaosOrders($after: String) {
  orders(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      number externalId status createdAt
      channel { code }
      warehouse { code }
      shipments { trackingNo status carrier }
    }
  }
}
"""
#: The alert that says OrderGraph noticed each incident (kind, and whether the subject must name the target).
EXPECTED_ALERT = {"wms_outage": ("system.unreachable", True), "erp_drift": ("stock_drift", True),
                  "channel_throttle": ("channel.throttled", True), "process_kill": ("system.process_lost", False),
                  "redis_restart": ("system.bus_down", False)}


class GraphQLError(RuntimeError):
    pass


async def graphql(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """One request; retried while the server is restarting (a killed worker, a busy database)."""
    for attempt in range(30):
        try:
            response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
            if response.status_code < 500:
                body = response.json()
                if body.get("errors"):
                    raise GraphQLError(str(body["errors"])[:500])
                return body["data"]
        except httpx.TransportError:
            pass
        await asyncio.sleep(min(0.5 * (attempt + 1), 3.0))
    raise GraphQLError("OrderGraph did not answer for a minute")


async def all_orders(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = (await graphql(client, ORDERS, {"after": after}))["orders"]
        found.extend(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def epoch(value: str | None) -> float | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


#: Lineage rows that put an alert on the board (or bring it up to date), and that take it off again.
RAISING = ("alert.raised", "alert.reopened", "alert.updated")
CLEARING = ("alert.cleared", "alert.resolved")


@dataclass(frozen=True)
class AlertEvent:
    """One lineage row of an alert: what the board showed, and when (wall seconds since the day began)."""

    at: float
    type: str
    kind: str
    subject: str
    message: str


def judge_alerts(fault: Fault, events: list[AlertEvent]) -> None:
    """Fill in when OrderGraph raised the alert that answers ``fault`` and when it took it off again.

    Read from the alerts' own lineage rows, so an alert raised and cleared between two looks is not missed.
    """
    kind, by_subject = EXPECTED_ALERT[fault.kind]
    matching = [e for e in events if e.kind == kind and (not by_subject or fault.subject in e.subject)]
    raised = [e for e in matching if e.type in RAISING and e.at >= fault.injected_at]
    if not raised:
        return
    first = min(raised, key=lambda e: e.at)
    fault.detected_at, fault.evidence = first.at, f"{kind} {first.subject}: {first.message}"[:300]
    cleared = [e.at for e in matching if e.type in CLEARING and e.at >= first.at]
    if cleared:
        fault.resolved_at = min(cleared)


@dataclass
class Verdict:
    dimensions: dict[str, list[int]]
    disagreements: list[Disagreement]
    duplicates: list[str]
    created: dict[tuple[str, str], float]  # (channel, external id) -> wall second OrderGraph recorded it
    numbers: dict[tuple[str, str], str]  # (channel, external id) -> OrderGraph's order number
    orders: int


def judge_orders(day: Day, systems: Systems, orders: list[dict[str, Any]]) -> Verdict:
    """Compare OrderGraph's ``orders`` with the truth the simulators hold now."""
    held: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for order in orders:
        held.setdefault((order["channel"]["code"], order["externalId"]), []).append(order)
    dimensions = {name: [0, 0] for name in DIMENSIONS}
    disagreements: list[Disagreement] = []
    duplicates = [f"{kind} {external_id}: {len(found)} orders in OrderGraph" for (kind, external_id), found in held.items()
                  if len(found) > 1]
    created: dict[tuple[str, str], float] = {}
    numbers: dict[tuple[str, str], str] = {}

    def check(key: tuple[str, str], dimension: str, expected: str, actual: str, why: str) -> None:
        dimensions[dimension][1] += 1
        if expected == actual:
            dimensions[dimension][0] += 1
        else:
            notes = "; ".join(day.notes.get(key, []))
            disagreements.append(Disagreement(key[0], key[1], dimension, expected, actual,
                                              f"{why}{' — ' + notes if notes else ''}"))

    for key in day.placed:
        found = held.get(key, [])
        check(key, "exists", "1 order", f"{len(found)} orders" if len(found) != 1 else "1 order",
              "OrderGraph never recorded it" if not found else "the order is held more than once")
        if not found:
            continue
        order = found[0]
        created[key] = (epoch(order["createdAt"]) or 0) - day.started
        numbers[key] = order["number"]
        truth = _truth(day, systems, key, order["number"])
        check(key, "status", truth.status, order["status"], truth.why_status)
        if truth.warehouse:
            check(key, "warehouse", truth.warehouse, (order.get("warehouse") or {}).get("code") or "none",
                  "OrderGraph allocated it elsewhere than the WMS that holds its delivery order")
        if truth.waybill:
            shipments = order["shipments"]
            check(key, "waybill", truth.waybill, ",".join(s["trackingNo"] for s in shipments) or "none",
                  "; ".join(["the WMS shipped it with this waybill", *day.code_notes.get(truth.code, [])]))
            if truth.scan:
                check(key, "tracking", truth.scan, shipments[0]["status"] if shipments else "none",
                      "; ".join(["the carrier's latest scan", *day.code_notes.get(truth.code, [])]))
        for code, wms in systems.wms.items():
            created_times = wms.created.get(f"{order['number']}-{code}", 0)
            if created_times > 1:
                duplicates.append(f"{order['number']}-{code}: created {created_times} times at the WMS")
    return Verdict(dimensions, disagreements, duplicates, created, numbers, len(day.placed))


@dataclass
class _Truth:
    status: str
    why_status: str
    warehouse: str = ""
    code: str = ""
    waybill: str = ""
    scan: str = ""


def _truth(day: Day, systems: Systems, key: tuple[str, str], number: str) -> _Truth:
    kind, external_id = key
    cancelled = systems.shops[kind].orders[external_id].status == CANCELLED.get(kind)
    open_code = ""
    for warehouse, wms in systems.wms.items():
        code = f"{number}-{warehouse}"
        delivery = wms.orders.get(code)
        if delivery is None or delivery.status == "CANCELED":
            continue
        if delivery.packages:
            waybill = delivery.packages[0]["expressCode"]
            scans = systems.carrier.scans.get(waybill, [])
            scan = scans[-1].status if scans else ""
            status = "DELIVERED" if scan == "DELIVERED" else "SHIPPED"
            return _Truth(status, f"the WMS {warehouse} shipped it" + (f", the carrier says {scan}" if scan else ""),
                          warehouse, code, waybill, scan)
        open_code = code
    if cancelled:
        return _Truth("CANCELLED", "the buyer cancelled it on the channel before it shipped")
    if open_code:
        warehouse = open_code.rsplit("-", 1)[1]
        return _Truth("ALLOCATED", f"the WMS {warehouse} holds its delivery order, not shipped yet", warehouse, open_code)
    return _Truth("ALLOCATED", "paid on the channel: it should be allocated and sent to a WMS "
                  "(no WMS holds a delivery order for it)")


def lost_events(lineage_ids: list[int], received: Counter[int]) -> list[int]:
    """Lineage events the partner's endpoint never received."""
    return [event_id for event_id in lineage_ids if event_id not in received]
