"""Setting a merchant up over GraphQL: warehouses, catalogue items, SKU aliases, opening stock.

Admin and ops keys write; every role reads. Refusals come back in the
payload's ``errors`` (code, field, message) and nothing is changed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from domain.catalog.items import ItemFilter
from resolvers import catalog as catalog_resolvers
from resolvers import stock as stock_resolvers
from schema.errors import UserError, attempt
from schema.stock import StockLevel, StockLevelPayload
from schema.types import CatalogItem, PageInfo, Warehouse

# --- types -------------------------------------------------------------------------------------


@strawberry.enum(description="What an upsert did.")
class CatalogChange(Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"


@strawberry.type(description="A channel's own name for one of the merchant's SKUs.")
class SkuAlias:
    channel: str = strawberry.field(description="Channel code.")
    alias: str = strawberry.field(description="The SKU as the channel writes it.")
    sku: str = strawberry.field(description="The merchant's SKU it means.")
    created_at: datetime

    @classmethod
    def from_row(cls, row: object) -> SkuAlias:
        return cls(channel=row.channel.code, alias=row.alias, sku=row.sku, created_at=row.created_at)  # type: ignore[attr-defined]


@strawberry.type
class CatalogItemEdge:
    cursor: str
    node: CatalogItem


@strawberry.type
class CatalogItemConnection:
    edges: list[CatalogItemEdge]
    page_info: PageInfo
    filter: strawberry.Private[ItemFilter | None]

    @strawberry.field
    def nodes(self) -> list[CatalogItem]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many items match the filter (one extra COUNT query; ask only if you show it).")
    async def total_count(self, info: Info) -> int:
        return await catalog_resolvers.count_items(info.context, self.filter)


# --- inputs ------------------------------------------------------------------------------------


@strawberry.input(description="Where a warehouse is. On update, an omitted field stays as it is.")
class WarehouseAddressInput:
    province: str | None = UNSET
    city: str | None = UNSET
    district: str | None = UNSET
    street: str | None = strawberry.field(default=UNSET, description="Street address.")
    postal_code: str | None = UNSET
    country_code: str | None = strawberry.field(default=UNSET, description="ISO 3166-1 alpha-2, e.g. CN (the default).")


@strawberry.input
class CreateWarehouseInput:
    code: str = strawberry.field(description="Letters, digits, `_ . -`; up to 32. Allocation policies name it.")
    name: str
    address: WarehouseAddressInput | None = None
    latitude: float | None = strawberry.field(default=None, description="-90 to 90; give both coordinates or neither.")
    longitude: float | None = strawberry.field(default=None, description="-180 to 180.")
    region: str = ""
    handling_cost: Decimal | None = strawberry.field(default=None, description="Per order, e.g. \"2.50\"; at most 2 decimals.")
    priority: int = strawberry.field(default=100, description="Lower ships first under the priority strategy.")
    active: bool = strawberry.field(default=True, description="false creates it paused.")
    reason: str = ""


@strawberry.input(description="Change a warehouse: omitted fields stay; null clears coordinates or handling cost.")
class UpdateWarehouseInput:
    warehouse: strawberry.ID
    name: str | None = UNSET
    address: WarehouseAddressInput | None = UNSET
    latitude: float | None = UNSET
    longitude: float | None = UNSET
    region: str | None = UNSET
    handling_cost: Decimal | None = UNSET
    priority: int | None = UNSET
    active: bool | None = strawberry.field(
        default=UNSET, description="false pauses it: stock and existing reservations stay, allocation skips it."
    )
    reason: str = ""


@strawberry.input(description="Create an item, or change the fields given (omitted fields stay). `title` is required for a new item.")
class UpsertCatalogItemInput:
    sku: str
    title: str | None = UNSET
    category: str | None = UNSET
    barcode: str | None = strawberry.field(default=UNSET, description="A GTIN must have a valid check digit; one item per barcode.")
    weight_grams: int | None = UNSET
    safety_stock: int | None = strawberry.field(
        default=UNSET, description="What new (warehouse, SKU) stock rows start with; existing rows keep theirs (setSafetyStock)."
    )
    active: bool | None = UNSET
    reason: str = ""


@strawberry.input
class CatalogItemFilter:
    search: str | None = strawberry.field(default=None, description="Part of the SKU code or title, or the exact barcode.")
    category: str | None = None
    active: bool | None = None
    skus: list[str] | None = strawberry.field(default=None, description="Only these SKU codes.")

    def as_domain(self) -> ItemFilter:
        return ItemFilter(search=self.search, category=self.category, active=self.active,
                          skus=tuple(self.skus) if self.skus is not None else None)


@strawberry.input
class SetSkuAliasInput:
    channel: str = strawberry.field(description="Channel code.")
    alias: str = strawberry.field(description="The SKU as the channel writes it.")
    sku: str = strawberry.field(description="An SKU in the catalogue.")


@strawberry.input
class RemoveSkuAliasInput:
    channel: str
    alias: str


@strawberry.input(description="The first stock of a (warehouse, SKU) that has never had any.")
class SetOpeningStockInput:
    warehouse: strawberry.ID
    sku: str
    quantity: int = strawberry.field(description="0 or more.")
    reason: str = strawberry.field(default="", description="e.g. the stocktake it comes from.")


# --- payloads ----------------------------------------------------------------------------------


@strawberry.type
class WarehousePayload:
    warehouse: Warehouse | None
    errors: list[UserError]


@strawberry.type
class CatalogItemPayload:
    item: CatalogItem | None
    change: CatalogChange | None
    errors: list[UserError]


@strawberry.type
class SkuAliasPayload:
    alias: SkuAlias | None
    errors: list[UserError]


# --- roots -------------------------------------------------------------------------------------


@strawberry.type
class CatalogQuery:
    @strawberry.field(description="Catalogue items by SKU code, keyset-paginated. `first` is 0-100.")
    async def catalog_items(
        self, info: Info, filter: CatalogItemFilter | None = None, first: int = 50, after: str | None = None
    ) -> CatalogItemConnection:
        wanted = filter.as_domain() if filter else None
        page = await catalog_resolvers.items_page(info.context, wanted, first, after)
        edges = [CatalogItemEdge(cursor=page.cursor_of(row), node=CatalogItem.from_row(row)) for row in page.rows]
        return CatalogItemConnection(edges=edges, page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
                                     filter=wanted)

    @strawberry.field(description="One catalogue item by SKU code.")
    async def catalog_item(self, info: Info, sku: str) -> CatalogItem | None:
        row = await catalog_resolvers.item(info.context, sku)
        return CatalogItem.from_row(row) if row else None

    @strawberry.field(description="SKU aliases, by channel code and/or SKU.")
    async def sku_aliases(self, info: Info, channel: str | None = None, sku: str | None = None) -> list[SkuAlias]:
        return [SkuAlias.from_row(row) for row in await catalog_resolvers.aliases(info.context, channel, sku)]


def _warehouse_payload(row: object | None, errors: list[UserError]) -> WarehousePayload:
    return WarehousePayload(warehouse=Warehouse.from_row(row) if row is not None else None, errors=errors)


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(description="Add a warehouse (admin, ops).")
    async def create_warehouse(self, info: Info, input: CreateWarehouseInput) -> WarehousePayload:
        return _warehouse_payload(*await attempt(lambda: catalog_resolvers.create_warehouse(info.context, input)))

    @strawberry.mutation(description="Change a warehouse, or pause (`active: false`) and resume it (admin, ops).")
    async def update_warehouse(self, info: Info, input: UpdateWarehouseInput) -> WarehousePayload:
        return _warehouse_payload(*await attempt(lambda: catalog_resolvers.update_warehouse(info.context, input)))

    @strawberry.mutation(description="Create a catalogue item or change the fields given (admin, ops).")
    async def upsert_catalog_item(self, info: Info, input: UpsertCatalogItemInput) -> CatalogItemPayload:
        result, errors = await attempt(lambda: catalog_resolvers.upsert_item(info.context, input))
        if result is None:
            return CatalogItemPayload(item=None, change=None, errors=errors)
        row, outcome = result
        return CatalogItemPayload(item=CatalogItem.from_row(row), change=CatalogChange(outcome.value), errors=[])

    @strawberry.mutation(description="Make a channel's SKU name mean one of your SKUs (admin, ops). The SKU must exist.")
    async def set_sku_alias(self, info: Info, input: SetSkuAliasInput) -> SkuAliasPayload:
        row, errors = await attempt(lambda: catalog_resolvers.set_alias(info.context, input))
        return SkuAliasPayload(alias=SkuAlias.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Forget a channel's SKU alias (admin, ops); returns the alias as it was.")
    async def remove_sku_alias(self, info: Info, input: RemoveSkuAliasInput) -> SkuAliasPayload:
        row, errors = await attempt(lambda: catalog_resolvers.remove_alias(info.context, input))
        return SkuAliasPayload(alias=SkuAlias.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Book the first stock of a (warehouse, SKU) through the ledger (admin, ops). "
                                     "Refused once it has movements: then use receiveStock or adjustStock.")
    async def set_opening_stock(self, info: Info, input: SetOpeningStockInput) -> StockLevelPayload:
        row, errors = await attempt(lambda: catalog_resolvers.set_opening_stock(info.context, input))
        if row is None:
            return StockLevelPayload(stock=None, errors=errors)
        return StockLevelPayload(stock=StockLevel.from_level(await stock_resolvers.level_of(info.context, row)), errors=[])
