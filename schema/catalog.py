"""Setting a merchant up over GraphQL: warehouses, catalogue items, SKU aliases, opening stock.

Admin and ops keys write; every role reads. Refusals come back in the
payload's ``errors`` (code, field, message) and nothing is changed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from domain.catalog.items import ItemFilter
from resolvers import catalog as catalog_resolvers
from resolvers import stock as stock_resolvers
from schema.arguments import After, First
from schema.connections import Connection
from schema.errors import UserError, attempt
from schema.stock import StockLevel, StockLevelPayload
from schema.types import CatalogItem, PageInfo, Warehouse

# --- types -------------------------------------------------------------------------------------


@strawberry.enum(description="What an upsert did.")
class CatalogChange(Enum):
    CREATED = strawberry.enum_value("CREATED", description="A new item was created.")
    UPDATED = strawberry.enum_value("UPDATED", description="An existing item was changed.")
    UNCHANGED = strawberry.enum_value("UNCHANGED", description="The item already had these values; nothing was written.")


@strawberry.type(description="A channel's own name for one of the merchant's SKUs.")
class SkuAlias:
    channel: str = strawberry.field(description="Channel code.")
    alias: str = strawberry.field(description="The SKU as the channel writes it.")
    sku: str = strawberry.field(description="The merchant's SKU it means.")
    created_at: datetime = strawberry.field(description="When the alias was made (UTC).")

    @classmethod
    def from_row(cls, row: object) -> SkuAlias:
        return cls(channel=row.channel.code, alias=row.alias, sku=row.sku, created_at=row.created_at)  # type: ignore[attr-defined]


@strawberry.type(description="SKU aliases, a page at a time.")
class SkuAliasConnection(Connection[SkuAlias]):
    pass


@strawberry.type(description="One catalogue item of a page, with its cursor.")
class CatalogItemEdge:
    cursor: str = strawberry.field(description="Opaque cursor; pass it as `after` to get the items after this one.")
    node: CatalogItem = strawberry.field(description="The item.")


@strawberry.type(description="A page of catalogue items, by SKU code.")
class CatalogItemConnection:
    edges: list[CatalogItemEdge] = strawberry.field(description="The items of this page, each with its cursor.")
    page_info: PageInfo = strawberry.field(description="Whether there is a next page, and the cursor to ask for it.")
    filter: strawberry.Private[ItemFilter | None]

    @strawberry.field(description="The items of this page, without cursors.")
    def nodes(self) -> list[CatalogItem]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many items match the filter (one extra COUNT query; ask only if you show it).")
    async def total_count(self, info: Info) -> int:
        return await catalog_resolvers.count_items(info.context, self.filter)


# --- inputs ------------------------------------------------------------------------------------


@strawberry.input(description="Where a warehouse is. On update, an omitted field stays as it is.")
class WarehouseAddressInput:
    province: str | None = strawberry.field(default=UNSET, description="Province or state.")
    city: str | None = strawberry.field(default=UNSET, description="City.")
    district: str | None = strawberry.field(default=UNSET, description="District or county.")
    street: str | None = strawberry.field(default=UNSET, description="Street address.")
    postal_code: str | None = strawberry.field(default=UNSET, description="Postal code.")
    country_code: str | None = strawberry.field(default=UNSET, description="ISO 3166-1 alpha-2, e.g. CN (the default).")


@strawberry.input(description="A new warehouse.")
class CreateWarehouseInput:
    code: str = strawberry.field(description="Letters, digits, `_ . -`; up to 32. Allocation policies name it.")
    name: str = strawberry.field(description="Display name.")
    address: WarehouseAddressInput | None = strawberry.field(default=None, description="Where it is (used by region and nearest allocation).")
    latitude: float | None = strawberry.field(default=None, description="-90 to 90; give both coordinates or neither.")
    longitude: float | None = strawberry.field(default=None, description="-180 to 180.")
    region: str = strawberry.field(default="", description="A name policies and reports group warehouses by (`east`, `north`); may be empty.")
    handling_cost: Decimal | None = strawberry.field(default=None, description="Per order, e.g. \"2.50\"; at most 2 decimals.")
    priority: int = strawberry.field(default=100, description="Lower ships first under the priority strategy.")
    active: bool = strawberry.field(default=True, description="false creates it paused.")
    reason: str = strawberry.field(default="", description="Why, recorded in the lineage; may be empty.")


@strawberry.input(description="Change a warehouse: omitted fields stay; null clears coordinates or handling cost.")
class UpdateWarehouseInput:
    warehouse: strawberry.ID = strawberry.field(description="The warehouse's id.")
    name: str | None = strawberry.field(default=UNSET, description="A new display name.")
    address: WarehouseAddressInput | None = strawberry.field(default=UNSET, description="Address fields to change.")
    latitude: float | None = strawberry.field(default=UNSET, description="-90 to 90; null clears both coordinates.")
    longitude: float | None = strawberry.field(default=UNSET, description="-180 to 180; null clears both coordinates.")
    region: str | None = strawberry.field(default=UNSET, description="A new region name; empty clears it.")
    handling_cost: Decimal | None = strawberry.field(default=UNSET, description="Per order, a decimal string with at most 2 decimals; null clears it.")
    priority: int | None = strawberry.field(default=UNSET, description="Lower ships first under the priority strategy.")
    active: bool | None = strawberry.field(
        default=UNSET, description="false pauses it: stock and existing reservations stay, allocation skips it."
    )
    reason: str = strawberry.field(default="", description="Why, recorded in the lineage; may be empty.")


@strawberry.input(description="Create an item, or change the fields given (omitted fields stay). `title` is required for a new item.")
class UpsertCatalogItemInput:
    sku: str = strawberry.field(description="The merchant's SKU code: the item to create or change.")
    title: str | None = strawberry.field(default=UNSET, description="The item's name; required for a new item.")
    category: str | None = strawberry.field(default=UNSET, description="A category allocation policies may route by (e.g. `bulky`).")
    barcode: str | None = strawberry.field(default=UNSET, description="A GTIN must have a valid check digit; one item per barcode.")
    weight_grams: int | None = strawberry.field(default=UNSET, description="Shipping weight in grams; null clears it.")
    safety_stock: int | None = strawberry.field(
        default=UNSET, description="What new (warehouse, SKU) stock rows start with; existing rows keep theirs (setSafetyStock)."
    )
    active: bool | None = strawberry.field(default=UNSET, description="false discontinues the item.")
    reason: str = strawberry.field(default="", description="Why, recorded in the lineage; may be empty.")


@strawberry.input(description="Narrows the catalogue; every given criterion must hold.")
class CatalogItemFilter:
    search: str | None = strawberry.field(default=None, description="Part of the SKU code or title, or the exact barcode.")
    category: str | None = strawberry.field(default=None, description="Only items of this category.")
    active: bool | None = strawberry.field(default=None, description="Only active (true) or discontinued (false) items.")
    skus: list[str] | None = strawberry.field(default=None, description="Only these SKU codes.")

    def as_domain(self) -> ItemFilter:
        return ItemFilter(search=self.search, category=self.category, active=self.active,
                          skus=tuple(self.skus) if self.skus is not None else None)


@strawberry.input(description="A channel's name for one of your SKUs.")
class SetSkuAliasInput:
    channel: str = strawberry.field(description="Channel code.")
    alias: str = strawberry.field(description="The SKU as the channel writes it.")
    sku: str = strawberry.field(description="An SKU in the catalogue.")


@strawberry.input(description="The alias to forget.")
class RemoveSkuAliasInput:
    channel: str = strawberry.field(description="Channel code.")
    alias: str = strawberry.field(description="The SKU as the channel writes it.")


@strawberry.input(description="The first stock of a (warehouse, SKU) that has never had any.")
class SetOpeningStockInput:
    warehouse: strawberry.ID = strawberry.field(description="The warehouse's id.")
    sku: str = strawberry.field(description="The merchant's SKU code (must be in the catalogue).")
    quantity: int = strawberry.field(description="0 or more.")
    reason: str = strawberry.field(default="", description="e.g. the stocktake it comes from.")


# --- payloads ----------------------------------------------------------------------------------


@strawberry.type(description="The result of a warehouse mutation.")
class WarehousePayload:
    warehouse: Warehouse | None = strawberry.field(
        description="The warehouse as it is now; null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(
        description="Why nothing changed (FORBIDDEN for roles other than admin and ops); empty on success.")


@strawberry.type(description="The result of an upsert.")
class CatalogItemPayload:
    item: CatalogItem | None = strawberry.field(description="The item as it is now; null when `errors` is not empty.")
    change: CatalogChange | None = strawberry.field(description="What the upsert did; null on error.")
    errors: list[UserError] = strawberry.field(
        description="Why nothing changed (FORBIDDEN for roles other than admin and ops); empty on success.")


@strawberry.type(description="The result of an alias mutation.")
class SkuAliasPayload:
    alias: SkuAlias | None = strawberry.field(
        description="The alias (as it was, for a removal); null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


# --- roots -------------------------------------------------------------------------------------


@strawberry.type
class CatalogQuery:
    @strawberry.field(description="Catalogue items by SKU code, keyset-paginated. `first` is 0-100.")
    async def catalog_items(
        self, info: Info, filter: Annotated[CatalogItemFilter | None, strawberry.argument(description="Narrows the items; null for all.")] = None, first: First = 50, after: After = None
    ) -> CatalogItemConnection:
        wanted = filter.as_domain() if filter else None
        page = await catalog_resolvers.items_page(info.context, wanted, first, after)
        edges = [CatalogItemEdge(cursor=page.cursor_of(row), node=CatalogItem.from_row(row)) for row in page.rows]
        page_info = PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor, has_previous_page=after is not None,
                             start_cursor=edges[0].cursor if edges else None)
        return CatalogItemConnection(edges=edges, page_info=page_info, filter=wanted)

    @strawberry.field(description="One catalogue item by SKU code.")
    async def catalog_item(self, info: Info, sku: Annotated[str, strawberry.argument(description="The merchant's SKU code.")]) -> CatalogItem | None:
        row = await catalog_resolvers.item(info.context, sku)
        return CatalogItem.from_row(row) if row else None

    @strawberry.field(description="SKU aliases, oldest first, by channel code and/or SKU, a page at a time.")
    async def sku_aliases(self, info: Info, channel: Annotated[str | None, strawberry.argument(description="Only this channel's aliases (its code).")] = None, sku: Annotated[str | None, strawberry.argument(description="Only aliases of this SKU.")] = None,
                          first: First = 50, after: After = None) -> SkuAliasConnection:
        return SkuAliasConnection.of(await catalog_resolvers.aliases(info.context, channel, sku, first, after),
                                     SkuAlias.from_row)


def _warehouse_payload(row: object | None, errors: list[UserError]) -> WarehousePayload:
    return WarehousePayload(warehouse=Warehouse.from_row(row) if row is not None else None, errors=errors)


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(description="Add a warehouse (admin, ops).")
    async def create_warehouse(self, info: Info, input: Annotated[CreateWarehouseInput, strawberry.argument(description="The warehouse.")]) -> WarehousePayload:
        return _warehouse_payload(*await attempt(lambda: catalog_resolvers.create_warehouse(info.context, input)))

    @strawberry.mutation(description="Change a warehouse, or pause (`active: false`) and resume it (admin, ops).")
    async def update_warehouse(self, info: Info, input: Annotated[UpdateWarehouseInput, strawberry.argument(description="The warehouse's id and what to change.")]) -> WarehousePayload:
        return _warehouse_payload(*await attempt(lambda: catalog_resolvers.update_warehouse(info.context, input)))

    @strawberry.mutation(description="Create a catalogue item or change the fields given (admin, ops).")
    async def upsert_catalog_item(self, info: Info, input: Annotated[UpsertCatalogItemInput, strawberry.argument(description="The item.")]) -> CatalogItemPayload:
        result, errors = await attempt(lambda: catalog_resolvers.upsert_item(info.context, input))
        if result is None:
            return CatalogItemPayload(item=None, change=None, errors=errors)
        row, outcome = result
        return CatalogItemPayload(item=CatalogItem.from_row(row), change=CatalogChange(outcome.value), errors=[])

    @strawberry.mutation(description="Make a channel's SKU name mean one of your SKUs (admin, ops). The SKU must exist.")
    async def set_sku_alias(self, info: Info, input: Annotated[SetSkuAliasInput, strawberry.argument(description="The alias.")]) -> SkuAliasPayload:
        row, errors = await attempt(lambda: catalog_resolvers.set_alias(info.context, input))
        return SkuAliasPayload(alias=SkuAlias.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Forget a channel's SKU alias (admin, ops); returns the alias as it was.")
    async def remove_sku_alias(self, info: Info, input: Annotated[RemoveSkuAliasInput, strawberry.argument(description="The alias.")]) -> SkuAliasPayload:
        row, errors = await attempt(lambda: catalog_resolvers.remove_alias(info.context, input))
        return SkuAliasPayload(alias=SkuAlias.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Book the first stock of a (warehouse, SKU) through the ledger (admin, ops). "
                                     "Refused once it has movements: then use receiveStock or adjustStock.")
    async def set_opening_stock(self, info: Info, input: Annotated[SetOpeningStockInput, strawberry.argument(description="The (warehouse, SKU) and its first quantity.")]) -> StockLevelPayload:
        row, errors = await attempt(lambda: catalog_resolvers.set_opening_stock(info.context, input))
        if row is None:
            return StockLevelPayload(stock=None, errors=errors)
        return StockLevelPayload(stock=StockLevel.from_level(await stock_resolvers.level_of(info.context, row)), errors=[])
