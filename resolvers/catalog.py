"""Reads of the things orders refer to (warehouses, items, aliases, channels, stock, alerts) and the set-up mutations' glue."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from typing import Any

from strawberry import UNSET
from tortoise.expressions import Q

from domain.actor import Actor
from domain.alerts.queries import BoardFilter, board_query
from domain.catalog import aliases as alias_cases
from domain.catalog import items as item_cases
from domain.catalog import warehouses as warehouse_cases
from domain.errors import NotFound
from domain.stock import levels
from models import Channel, Sku, SkuAlias, Stock, Warehouse
from resolvers import ids
from resolvers.context import Context
from resolvers.pagination import BadCursor, Page, check_page_size, keyset_page


def _actor(ctx: Context) -> Actor:
    assert ctx.actor is not None
    return ctx.actor


def _tenant(ctx: Context) -> int:
    return _actor(ctx).tenant_id


def _warehouse_pk(global_id: str, field: str = "warehouse") -> int:
    try:
        return ids.decode(global_id, "Warehouse")[1]
    except ids.BadId as exc:
        raise NotFound(str(exc), field=field) from None


def _sent(data: Any, columns: dict[str, str]) -> dict[str, Any]:
    """Input field -> column for the fields the caller sent; an explicit null is sent (it clears), an omitted field is not."""
    return {column: getattr(data, name) for name, column in columns.items() if getattr(data, name, UNSET) is not UNSET}


_ADDRESS = {"province": "province", "city": "city", "district": "district", "street": "address",
            "postal_code": "postal_code", "country_code": "country_code"}
_WAREHOUSE = {"name": "name", "region": "region", "latitude": "latitude", "longitude": "longitude",
              "handling_cost": "handling_cost", "priority": "priority", "active": "active"}
_ITEM = {"title": "title", "category": "category", "barcode": "barcode", "weight_grams": "weight_grams",
         "safety_stock": "safety_stock", "active": "active"}


def _warehouse_fields(data: Any) -> dict[str, Any]:
    fields = _sent(data, _WAREHOUSE)
    address = getattr(data, "address", UNSET)
    if address is not UNSET and address is not None:
        fields.update(_sent(address, _ADDRESS))
    return fields


# --- reads -------------------------------------------------------------------------------------


async def warehouses(ctx: Context) -> list[Warehouse]:
    """Every warehouse of the tenant, paused ones included, in priority order."""
    return await warehouse_cases.listing(_tenant(ctx))


async def channels(ctx: Context) -> list[Channel]:
    return await Channel.filter(tenant_id=_tenant(ctx)).order_by("code")


async def stock_of_sku(ctx: Context, sku: str) -> list[Stock]:
    return await Stock.filter(tenant_id=_tenant(ctx), sku=sku).order_by("warehouse_id")


async def alerts(ctx: Context, open_only: bool, first: int, after: str | None,
                 board: BoardFilter | None = None) -> tuple[Page, BoardFilter]:
    """A page of alerts, newest first (unresolved ones if ``open_only``), narrowed by the exception board's filter.

    Returns the filter in force too (``open_only`` folded in), which the page's total count uses.
    """
    check_page_size(first, ctx.max_page_size)
    board = board or BoardFilter()
    board = replace(board, open_only=open_only or board.open_only)
    return await keyset_page(board_query(_tenant(ctx), board), "id", descending=True, first=first, after=after), board


@dataclass(frozen=True, slots=True)
class ItemPage:
    rows: list[Sku]
    has_next: bool

    @staticmethod
    def cursor_of(row: Sku) -> str:
        return base64.urlsafe_b64encode(json.dumps([row.code, row.id], ensure_ascii=False).encode()).decode()

    @property
    def end_cursor(self) -> str | None:
        return self.cursor_of(self.rows[-1]) if self.rows else None


def _after_item(cursor: str) -> tuple[str, int]:
    try:
        code, pk = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(code, str) and isinstance(pk, int):
            return code, pk
    except (ValueError, TypeError):
        pass
    raise BadCursor(f"{cursor!r} is not a cursor this API issued")


async def items_page(ctx: Context, wanted: item_cases.ItemFilter | None, first: int, after: str | None) -> ItemPage:
    """Catalogue items in SKU code order; the cursor is the last row's (code, id)."""
    check_page_size(first, ctx.max_page_size)
    query = item_cases.query(_tenant(ctx), wanted)
    if after:
        code, pk = _after_item(after)
        query = query.filter(Q(code__gt=code) | Q(code=code, id__gt=pk))
    rows = list(await query.order_by("code", "id").limit(first + 1))
    return ItemPage(rows=rows[:first], has_next=len(rows) > first)


async def count_items(ctx: Context, wanted: item_cases.ItemFilter | None) -> int:
    return await item_cases.query(_tenant(ctx), wanted).count()


async def item(ctx: Context, sku: str) -> Sku | None:
    return await Sku.filter(tenant_id=_tenant(ctx), code=sku.strip()).first()


async def aliases(ctx: Context, channel: str | None, sku: str | None, first: int, after: str | None) -> Page:
    """A page of aliases, oldest first, each with its channel (keyset cursors carry dates or numbers, not text)."""
    check_page_size(first, ctx.max_page_size)
    page = await keyset_page(alias_cases.query(_tenant(ctx), channel, sku), "id", descending=False, first=first,
                             after=after)
    if page.rows:
        await SkuAlias.fetch_for_list(page.rows, "channel")
    return page


# --- mutations ---------------------------------------------------------------------------------


async def create_warehouse(ctx: Context, data: Any) -> Warehouse:
    return await warehouse_cases.create_warehouse(_actor(ctx), data.code, _warehouse_fields(data), reason=data.reason or "")


async def update_warehouse(ctx: Context, data: Any) -> Warehouse:
    return await warehouse_cases.update_warehouse(_actor(ctx), _warehouse_pk(data.warehouse), _warehouse_fields(data),
                                                  reason=data.reason or "")


async def upsert_item(ctx: Context, data: Any) -> tuple[Sku, item_cases.Outcome]:
    return await item_cases.upsert_item(_actor(ctx), data.sku, _sent(data, _ITEM), reason=data.reason or "")


async def set_alias(ctx: Context, data: Any) -> SkuAlias:
    row = await alias_cases.set_alias(_actor(ctx), data.channel, data.alias, data.sku)
    await row.fetch_related("channel")
    return row


async def remove_alias(ctx: Context, data: Any) -> SkuAlias:
    row = await alias_cases.remove_alias(_actor(ctx), data.channel, data.alias)
    await row.fetch_related("channel")
    return row


async def set_opening_stock(ctx: Context, data: Any) -> Stock:
    stock, _ = await levels.set_opening_stock(_actor(ctx), _warehouse_pk(data.warehouse), data.sku, data.quantity,
                                              reason=data.reason or "")
    return stock
