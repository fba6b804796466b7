"""The one read an inbound order starts with: its order (locked) and the channel's SKU aliases for its lines.

A channel may name a SKU its own way (``TB-TEA-250`` on the Tmall shop is the
tenant's ``TEA-250``: a ``SkuAlias``). The line is stored with the tenant's
SKU in ``sku`` (stock and allocation use it) and the channel's in
``channel_sku``. The aliases of one order come in the same statement as the
order lookup, so the webhook path pays no extra round trip; an import batch
loads them once for all its orders (:func:`aliases_for`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from tortoise import connections

from domain.sql import dialect_sql
from models import Order, SkuAlias

Aliases = Mapping[str, str]


def resolve(sku: str, aliases: Aliases) -> tuple[str, str]:
    """``(sku, channel_sku)`` for a line: the tenant's SKU, and the channel's when an alias mapped it."""
    tenant_sku = aliases.get(sku)
    return (tenant_sku, sku) if tenant_sku else (sku, "")


async def locate(
    tenant_id: int, channel_id: int, external_id: str, skus: Iterable[str], *, lock: bool
) -> tuple[int | None, dict[str, str]]:
    """The order's id (locked FOR UPDATE on PostgreSQL when asked) and the aliases of ``skus``, in one statement."""
    wanted = sorted({sku for sku in skus if sku})
    connection = connections.get("default")
    postgres = connection.capabilities.dialect == "postgres"
    order_sql = ('(SELECT "id" FROM "orders" WHERE "tenant_id" = ? AND "channel_id" = ? AND "external_id" = ?'
                 + (" FOR UPDATE" if lock and postgres else "") + ")")
    params: list[Any] = [tenant_id, channel_id, external_id]
    if wanted:
        pairs = "json_agg(json_build_array(\"alias\", \"sku\"))" if postgres else 'json_group_array(json_array("alias", "sku"))'
        alias_sql = (f'(SELECT {pairs} FROM "sku_alias" WHERE "tenant_id" = ? AND "channel_id" = ? '
                     f'AND "alias" IN ({", ".join("?" for _ in wanted)}))')
        params += [tenant_id, channel_id, *wanted]
    else:
        alias_sql = "NULL"
    sql = dialect_sql(f'SELECT {order_sql} AS "order_id", {alias_sql} AS "aliases"', len(params))
    rows = await connection.execute_query_dict(sql, params)
    row = rows[0]
    return row["order_id"], _pairs(row["aliases"])


def _pairs(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    pairs = json.loads(value) if isinstance(value, (str, bytes)) else value
    return {alias: sku for alias, sku in pairs or []}


async def aliases_for(tenant_id: int, channel_id: int, skus: Iterable[str]) -> dict[str, str]:
    """The aliases among ``skus`` (one query for a whole import batch)."""
    wanted = sorted({sku for sku in skus if sku})
    if not wanted:
        return {}
    rows = await SkuAlias.filter(tenant_id=tenant_id, channel_id=channel_id, alias__in=wanted).values_list("alias", "sku")
    return dict(rows)  # type: ignore[arg-type]


async def by_external_ids(tenant_id: int, channel_id: int, external_ids: Iterable[str],
                          *columns: str) -> list[tuple[Any, ...]]:
    """``(external_id, *columns)`` of the channel's orders among ``external_ids``: one index probe per id.

    On PostgreSQL the ids are joined as an array, so each is an equality on the
    ``(tenant, channel, external_id)`` key whatever the table's statistics say
    (an ``IN`` list against a table not yet analysed is planned as a scan of
    the whole channel: a 100,000-order back-fill into a new database slowed to
    half speed).
    """
    wanted = list(dict.fromkeys(external_ids))
    if not wanted:
        return []
    connection = connections.get("default")
    if connection.capabilities.dialect != "postgres":  # the ORM converts SQLite's text times
        return [tuple(row) for row in await Order.filter(tenant_id=tenant_id, channel_id=channel_id,
                                                         external_id__in=wanted).values_list("external_id", *columns)]
    names = ", ".join(f'o."{column}"' for column in ("external_id", *columns))
    sql = (f'SELECT {names} FROM unnest($3::text[]) AS wanted("external_id") JOIN "orders" o '
           f'ON o."tenant_id" = $1 AND o."channel_id" = $2 AND o."external_id" = wanted."external_id"')
    _, rows = await connection.execute_query(sql, [tenant_id, channel_id, wanted])
    return [tuple(row.values()) for row in rows]
