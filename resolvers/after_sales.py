"""After-sales in GraphQL: glue from arguments to ``domain.after_sales``, the paged list, and per-request loaders."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from strawberry.dataloader import DataLoader

from domain.after_sales import decisions, queries
from domain.after_sales.policy import Policy, policy_for, set_policy
from domain.after_sales.requests import open_after_sale
from domain.errors import NotFound, ValidationFailed
from models import AfterSale, AfterSaleLine, AfterSalePhoto, AfterSalePolicy
from resolvers.context import Context
from resolvers.orders import actor_of, pk_of
from resolvers.pagination import Page, check_page_size, keyset_page


@dataclass(frozen=True, slots=True)
class LineRequest:
    order_line_id: str
    quantity: int
    replacement_sku: str | None = None


@dataclass(frozen=True, slots=True)
class PhotoUpload:
    content_type: str
    data_base64: str


def _tenant(ctx: Context) -> int:
    return actor_of(ctx).tenant_id


async def page(ctx: Context, *, statuses: Sequence[str], kinds: Sequence[str], order_id: str | None,
               source: str | None, first: int, after: str | None) -> Page:
    """Newest first, keyset-paged."""
    check_page_size(first, ctx.max_page_size)
    order_pk = pk_of(order_id, "Order") if order_id else None
    query = queries.filtered(_tenant(ctx), statuses=statuses, kinds=kinds, order_id=order_pk, source=source)
    return await keyset_page(query, "created_at", descending=True, first=first, after=after)


async def one(ctx: Context, global_id: str) -> AfterSale | None:
    try:
        pk = pk_of(global_id, "AfterSale")
    except NotFound:
        return None
    return await queries.after_sale(_tenant(ctx), pk)


def _loader(ctx: Context, name: str, load: Any) -> DataLoader[int, Any]:
    loader = getattr(ctx, name, None)
    if loader is None:
        loader = DataLoader(load_fn=load)
        setattr(ctx, name, loader)
    return loader


def lines_loader(ctx: Context) -> DataLoader[int, list[AfterSaleLine]]:
    async def load(keys: list[int]) -> list[list[AfterSaleLine]]:
        grouped = await queries.lines_of(keys)
        return [grouped[key] for key in keys]

    return _loader(ctx, "after_sale_lines", load)


def photos_loader(ctx: Context) -> DataLoader[int, list[AfterSalePhoto]]:
    async def load(keys: list[int]) -> list[list[AfterSalePhoto]]:
        grouped = await queries.photos_of(keys)
        return [grouped[key] for key in keys]

    return _loader(ctx, "after_sale_photos", load)


def order_loader(ctx: Context) -> DataLoader[int, list[AfterSale]]:
    """An order's after-sales (``Order.afterSales``), batched over a page of orders."""
    async def load(keys: list[int]) -> list[list[AfterSale]]:
        grouped = await queries.after_sales_of_orders(keys)
        return [grouped[key] for key in keys]

    return _loader(ctx, "order_after_sales", load)


def _photos(uploads: Sequence[PhotoUpload]) -> list[tuple[str, bytes]]:
    photos = []
    for index, upload in enumerate(uploads):
        try:
            data = base64.b64decode(upload.data_base64.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeError, ValueError):
            raise ValidationFailed("a photo must be base64", field=f"photos.{index}.dataBase64") from None
        photos.append((upload.content_type, data))
    return photos


async def request(ctx: Context, order_id: str, kind: str, lines: Sequence[LineRequest], reason: str, *,
                  amount: Decimal | None, external_id: str | None, photos: Sequence[PhotoUpload]) -> AfterSale:
    wanted = [(pk_of(line.order_line_id, "OrderLine"), line.quantity) for line in lines]
    replacements = {pk: line.replacement_sku for (pk, _), line in zip(wanted, lines, strict=True)
                    if line.replacement_sku}
    return await open_after_sale(actor_of(ctx), pk_of(order_id, "Order"), kind, wanted, reason, source="graphql",
                                 external_id=external_id, amount=amount, photos=_photos(photos),
                                 replacements=replacements or None)


async def approve(ctx: Context, global_id: str, amount: Decimal | None, note: str) -> AfterSale:
    return await decisions.approve(actor_of(ctx), pk_of(global_id, "AfterSale"), amount, note)


async def reject(ctx: Context, global_id: str, note: str) -> AfterSale:
    return await decisions.reject(actor_of(ctx), pk_of(global_id, "AfterSale"), note)


async def mark_returned(ctx: Context, global_id: str, carrier: str, tracking_no: str) -> AfterSale:
    return await decisions.mark_returned(actor_of(ctx), pk_of(global_id, "AfterSale"), carrier, tracking_no)


async def receive(ctx: Context, global_id: str, warehouse_id: str, lines: Sequence[tuple[str, int]]) -> AfterSale:
    received = [(pk_of(line_id, "AfterSaleLine"), quantity) for line_id, quantity in lines]
    return await decisions.receive(actor_of(ctx), pk_of(global_id, "AfterSale"), pk_of(warehouse_id, "Warehouse"),
                                   received)


async def inspect(ctx: Context, global_id: str, line_id: str, restock: int, write_off: int, note: str) -> AfterSale:
    return await decisions.inspect(actor_of(ctx), pk_of(global_id, "AfterSale"), pk_of(line_id, "AfterSaleLine"),
                                   restock=restock, write_off=write_off, note=note)


async def refund(ctx: Context, global_id: str) -> AfterSale:
    return await decisions.refund(actor_of(ctx), pk_of(global_id, "AfterSale"))


async def exchange(ctx: Context, global_id: str) -> AfterSale:
    return await decisions.exchange(actor_of(ctx), pk_of(global_id, "AfterSale"))


async def close(ctx: Context, global_id: str, note: str) -> AfterSale:
    return await decisions.close(actor_of(ctx), pk_of(global_id, "AfterSale"), note)


async def save_policy(ctx: Context, channel_id: str | None, config: Any) -> tuple[AfterSalePolicy, Policy]:
    channel_pk = pk_of(channel_id, "Channel") if channel_id else None
    row = await set_policy(actor_of(ctx), channel_pk, config)
    return row, await policy_for(_tenant(ctx), channel_pk)


async def effective_policy(ctx: Context, channel_id: str | None) -> Policy:
    return await policy_for(_tenant(ctx), pk_of(channel_id, "Channel") if channel_id else None)
