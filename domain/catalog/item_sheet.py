"""A catalogue spreadsheet: one item per row, upserted (``ordergraph catalog import``).

Columns (English or the usual Chinese headers): ``sku`` (required), ``title``
(required for a new item), ``category``, ``barcode``, ``weight_grams``,
``safety_stock``, ``active``. An empty cell leaves that field as it is, so
a file with only ``sku`` and ``safety_stock`` changes only safety stock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from domain.actor import Actor
from domain.catalog import items, sheets
from domain.catalog.checks import require_setup

LAYOUT = sheets.Layout(
    names={
        "sku": ("sku_code", "商品编码", "sku编码", "货号"),
        "title": ("name", "商品名称", "名称"),
        "category": ("类目", "分类"),
        "barcode": ("gtin", "ean", "条码", "条形码"),
        "weight_grams": ("weight", "weight_g", "重量", "重量(克)", "重量（克）"),
        "safety_stock": ("safety", "安全库存"),
        "active": ("enabled", "启用", "状态"),
    },
    required=("sku",),
)
_READ: dict[str, Callable[[str, str], Any]] = {
    "title": lambda text, _: text,
    "category": lambda text, _: text,
    "barcode": lambda text, _: text,
    "weight_grams": sheets.whole,
    "safety_stock": sheets.whole,
    "active": sheets.yes_no,
}
#: The use case's field names -> columns, for naming a refused cell.
PATHS = {path: column for column, (path, _) in items.FIELDS.items()}


async def import_items(
    actor: Actor, rows: Iterable[sheets.SheetRow], *, payload_ref: str | None = None, file_name: str = "",
    batch_size: int = 500, progress: Callable[[int], None] | None = None,
) -> sheets.SheetReport:
    """Upsert every readable row; the report counts created, updated and unchanged items and lists refusals."""
    require_setup(actor, "import the catalogue")

    async def apply(number: int, cells: Mapping[str, str]) -> str:
        values = {column: _READ[column](text, column) for column, text in cells.items() if column != "sku" and text}
        _, outcome = await items.upsert_item(actor, cells.get("sku", ""), values, payload_ref=payload_ref,
                                             reason=f"catalogue import {file_name or 'file'} row {number}")
        return {items.Outcome.CREATED: sheets.CREATED, items.Outcome.UPDATED: sheets.UPDATED}.get(outcome, sheets.UNCHANGED)

    return await sheets.apply_sheet(rows, LAYOUT, apply, paths=PATHS, batch_size=batch_size, progress=progress)
