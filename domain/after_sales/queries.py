"""Reading after-sales: an order's timeline, one by id, and the filtered list the GraphQL connection pages.

    for sale in await after_sales_of(order.id):        # oldest first, lines prefetched
        sale.status, [line.quantity for line in sale.lines]
"""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.queryset import QuerySet

from models import AfterSale, AfterSaleLine, AfterSalePhoto


async def after_sales_of(order_id: int) -> list[AfterSale]:
    """Every after-sale of the order, oldest first, with its lines prefetched (the tracking page's timeline)."""
    return list(await AfterSale.filter(order_id=order_id).order_by("created_at", "id").prefetch_related("lines"))


async def after_sales_of_orders(order_ids: Sequence[int]) -> dict[int, list[AfterSale]]:
    """The after-sales of several orders at once (a page of orders), oldest first per order."""
    grouped: dict[int, list[AfterSale]] = {order_id: [] for order_id in order_ids}
    for sale in await AfterSale.filter(order_id__in=list(order_ids)).order_by("created_at", "id"):
        grouped[sale.order_id].append(sale)  # type: ignore[attr-defined]
    return grouped


async def after_sale(tenant_id: int, after_sale_id: int) -> AfterSale | None:
    return await AfterSale.filter(id=after_sale_id, tenant_id=tenant_id).first()


def filtered(tenant_id: int, *, statuses: Sequence[str] = (), kinds: Sequence[str] = (),
             order_id: int | None = None, source: str | None = None) -> QuerySet[AfterSale]:
    """The tenant's after-sales narrowed by status, kind, order and source (for paging)."""
    query = AfterSale.filter(tenant_id=tenant_id)
    if statuses:
        query = query.filter(status__in=list(statuses))
    if kinds:
        query = query.filter(kind__in=list(kinds))
    if order_id is not None:
        query = query.filter(order_id=order_id)
    if source:
        query = query.filter(source=source)
    return query


async def lines_of(after_sale_ids: Sequence[int]) -> dict[int, list[AfterSaleLine]]:
    grouped: dict[int, list[AfterSaleLine]] = {pk: [] for pk in after_sale_ids}
    for line in await AfterSaleLine.filter(after_sale_id__in=list(after_sale_ids)).order_by("id"):
        grouped[line.after_sale_id].append(line)  # type: ignore[attr-defined]
    return grouped


async def photos_of(after_sale_ids: Sequence[int]) -> dict[int, list[AfterSalePhoto]]:
    """Photo rows without their bytes (id, type, size, digest)."""
    grouped: dict[int, list[AfterSalePhoto]] = {pk: [] for pk in after_sale_ids}
    rows = await AfterSalePhoto.filter(after_sale_id__in=list(after_sale_ids)).order_by("id") \
        .only("id", "after_sale_id", "content_type", "size", "sha256", "created_at")
    for photo in rows:
        grouped[photo.after_sale_id].append(photo)  # type: ignore[attr-defined]
    return grouped


async def photo(tenant_id: int, photo_id: int) -> AfterSalePhoto | None:
    """One photo with its bytes, if it belongs to the tenant."""
    return await AfterSalePhoto.filter(id=photo_id, after_sale__tenant_id=tenant_id).first()
