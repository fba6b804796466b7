"""PostgreSQL: the reads before one order's allocation in one round trip, and the writes after it in one more.

Allocating an order step by step reads its allocation policy, its unallocated lines, the frozen
SKUs, the active unpaused warehouses, the SKU categories and the stock levels
(six round trips), and after the reservation writes the decision, reads the
order's reservations to name its primary warehouse, saves the order, appends
its lineage row and looks for an open allocation-failed alert (five more).
Each round trip costs the process more CPU than the SQL costs the server
(``bench/reserve.py``'s profile: ~40% of samples in the socket write), so on
PostgreSQL ``allocate.allocate_locked`` sends them as:

- ``read``: every input of the plan in one statement (``Snapshot``), the
  warehouses as full rows, the rest as JSON in one context row;
- ``write``: the decision row, the order's move and its lineage row as one
  statement of data-modifying CTEs (``Move``).

Same rows, same values, same order of event ids as the step-by-step path,
which SQLite and merged groups keep. Call inside ``unit_of_work`` with the
order locked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.fields.data import JSON_DUMPS  # the encoder the ORM's JSONField writes with (NaN as null, not NaN)

from models import OrderLine, Warehouse

_READ_SQL = """
WITH lines AS (
    SELECT l."id", l."sku", l."quantity" FROM "order_line" l
    WHERE l."order_id" = $1
      AND NOT (l."id" IN (SELECT r."line_id" FROM "reservation" r WHERE r."order_id" = $1 AND r."line_slot" IS NOT NULL))
), wh AS (
    SELECT w.* FROM "warehouse" w
    WHERE w."tenant_id" = $2 AND w."active"
      AND NOT (w."id" IN (SELECT ws."warehouse_id" FROM "warehouse_systems" ws WHERE ws."tenant_id" = $2 AND ws."breaker_open"))
), ctx AS (
    SELECT
        (SELECT coalesce(json_agg(json_build_array(l."id", l."sku", l."quantity") ORDER BY l."id"), '[]')
         FROM lines l) AS og_lines,
        (SELECT coalesce(json_agg(r."warehouse_id" ORDER BY r."id"), '[]')
         FROM "reservation" r WHERE r."order_id" = $1 AND r."line_slot" IS NOT NULL) AS og_live,
        (SELECT coalesce(json_agg(DISTINCT f."sku"), '[]') FROM "sku_freeze" f
         WHERE f."tenant_id" = $2 AND f."scope" = $4 AND f."lifted_at" IS NULL
           AND (f."channel_id" IS NULL OR f."channel_id" = $3) AND f."sku" IN (SELECT "sku" FROM lines)) AS og_frozen,
        (SELECT coalesce(json_object_agg(s."code", s."category"), '{}') FROM "sku" s
         WHERE s."tenant_id" = $2 AND s."code" IN (SELECT "sku" FROM lines)) AS og_categories,
        (SELECT coalesce(json_agg(json_build_array(st."warehouse_id", st."sku", st."on_hand" - st."reserved")), '[]')
         FROM "stock" st WHERE st."warehouse_id" IN (SELECT "id" FROM wh) AND st."sku" IN (SELECT "sku" FROM lines)) AS og_levels,
        (SELECT coalesce(json_agg(json_build_array(p."scope", p."config", p."version")), '[]') FROM "allocation_policy" p
         WHERE p."tenant_id" = $2 AND p."scope" IN ($6, $7)) AS og_policies,
        (SELECT coalesce(json_agg(c."code"), '[]') FROM "warehouse" c WHERE c."tenant_id" = $2
           AND EXISTS (SELECT 1 FROM "allocation_policy" p WHERE p."tenant_id" = $2 AND p."scope" IN ($6, $7))) AS og_codes,
        (SELECT count(*) FROM "alert" a WHERE a."tenant_id" = $2 AND a."order_id" = $1 AND a."kind" = $5
           AND a."subject" = '' AND a."cleared_at" IS NULL) AS og_alerts
)
SELECT ctx.*, wh.* FROM ctx LEFT JOIN wh ON true ORDER BY wh."id"
"""

_WRITE_SQL = """
WITH decision AS (
    INSERT INTO "allocation_decision" ("tenant_id", "order_id", "strategy", "outcome", "split", "summary", "chosen",
                                       "candidates", "policy_scope", "policy_version", "actor", "created_at")
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
), moved AS (
    UPDATE "orders" SET "status" = $13, "warehouse_id" = $14, "ship_by" = $15, "version" = $16, "updated_at" = $12
    WHERE "id" = $2
)
INSERT INTO "order_event" ("tenant_id", "order_id", "type", "actor", "source", "reason", "before", "after", "created_at")
VALUES ($1, $2, $17, $11, $18, $19, $20, $21, $12)
"""


def available() -> bool:
    """True where these statements run: PostgreSQL (SQLite keeps the step-by-step path)."""
    return connections.get("default").capabilities.dialect == "postgres"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a plan needs, read without locks (the reservation's conditional UPDATE is the check)."""

    lines: list[OrderLine]  # unallocated, in id order (partial rows: id, order_id, sku, quantity)
    live_warehouses: list[int]  # warehouse of each live (active or shipped) reservation, in id order
    frozen: list[str]
    categories: dict[str, str]
    warehouses: list[Warehouse]  # active, not paused by a drift breaker, in id order
    available: dict[tuple[int, str], int]
    open_alerts: int  # open allocation-failed alerts on the order
    policies: dict[str, tuple[Any, int]]  # the stored allocation policies of the two scopes asked for: (config, version)
    warehouse_codes: set[str]  # every warehouse code of the tenant, read only when a policy is stored (to check it)


async def read(
    order_id: int, tenant_id: int, channel_id: int | None, *, freeze_scope: str, alert_kind: str, policy_scopes: tuple[str, str]
) -> Snapshot:
    rows = await connections.get("default").execute_query_dict(
        _READ_SQL, [order_id, tenant_id, channel_id, freeze_scope, alert_kind, *policy_scopes])
    head = rows[0]
    columns = [name for name in head if not name.startswith("og_")]
    warehouses = [Warehouse._init_from_db(**{name: row[name] for name in columns}) for row in rows if row["id"] is not None]
    return Snapshot(
        lines=[OrderLine._init_from_db(id=i, order_id=order_id, sku=s, quantity=q) for i, s, q in json.loads(head["og_lines"])],
        live_warehouses=json.loads(head["og_live"]),
        frozen=sorted(json.loads(head["og_frozen"])),
        categories=json.loads(head["og_categories"]),
        warehouses=warehouses,
        available={(wid, sku): free for wid, sku, free in json.loads(head["og_levels"])},
        open_alerts=head["og_alerts"],
        policies={scope: (config, version) for scope, config, version in json.loads(head["og_policies"])},
        warehouse_codes=set(json.loads(head["og_codes"])),
    )


@dataclass(frozen=True, slots=True)
class Move:
    """The stored decision and the order's move with its lineage row, as the statement wants them."""

    tenant_id: int
    order_id: int
    decision: dict[str, Any]  # strategy, outcome, split, summary, chosen, candidates, policy_scope, policy_version
    status: str
    warehouse_id: int | None
    ship_by: datetime | None
    version: int
    event_type: str
    actor: str
    source: str
    reason: str
    before: dict[str, Any]
    after: dict[str, Any]
    now: datetime


async def write(move: Move) -> None:
    d = move.decision
    await connections.get("default").execute_query(
        _WRITE_SQL,
        [
            move.tenant_id, move.order_id, d["strategy"], d["outcome"], d["split"], d["summary"], JSON_DUMPS(d["chosen"]),
            JSON_DUMPS(d["candidates"]), d["policy_scope"], d["policy_version"], move.actor, move.now,
            move.status, move.warehouse_id, move.ship_by, move.version, move.event_type, move.source, move.reason,
            JSON_DUMPS(move.before), JSON_DUMPS(move.after),
        ],
    )
