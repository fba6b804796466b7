"""A stock spreadsheet: opening stock or receipts, one (warehouse, SKU) per row (``ordergraph stock import``).

Columns: ``warehouse`` (code), ``sku``, ``quantity`` (all required), ``kind``
(``opening``, the default, or ``receipt``) and ``reference`` (required for a
receipt: its purchase order or ASN number). An opening row books the first
stock of a (warehouse, SKU) and is refused once that row has any movement;
a receipt is booked once per (warehouse, SKU, reference). Both make running
the same file twice harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from domain.actor import Actor
from domain.catalog import sheets
from domain.catalog.checks import require_setup
from domain.catalog.warehouses import by_code
from domain.errors import ValidationFailed
from domain.stock import levels

LAYOUT = sheets.Layout(
    names={
        "warehouse": ("warehouse_code", "仓库", "仓库编码"),
        "sku": ("sku_code", "商品编码", "sku编码", "货号"),
        "quantity": ("qty", "数量"),
        "kind": ("type", "类型"),
        "reference": ("ref", "po", "单号", "入库单号"),
    },
    required=("warehouse", "sku", "quantity"),
)
KINDS = {"opening": "opening", "期初": "opening", "receipt": "receipt", "入库": "receipt"}
PATHS = {"warehouse": "warehouse", "warehouseId": "warehouse", "sku": "sku", "quantity": "quantity", "reference": "reference"}


async def import_stock(
    actor: Actor, rows: Iterable[sheets.SheetRow], *, payload_ref: str | None = None,
    batch_size: int = 500, progress: Callable[[int], None] | None = None,
) -> sheets.SheetReport:
    """Book every readable row; a row already booked by an earlier run counts as unchanged."""
    require_setup(actor, "import stock")
    warehouses: dict[str, int] = {}

    async def apply(number: int, cells: Mapping[str, str]) -> str:
        code = cells.get("warehouse", "")
        if not code:
            raise ValidationFailed("no warehouse code", field="warehouse")
        if code not in warehouses:
            warehouses[code] = (await by_code(actor.tenant_id, code)).id
        quantity = sheets.whole(cells.get("quantity", ""), "quantity")
        kind = KINDS.get((cells.get("kind") or "opening").lower())
        if kind is None:
            raise ValidationFailed(f"kind {cells['kind']!r} is opening or receipt", field="kind")
        if kind == "opening":
            _, booked = await levels.set_opening_stock(actor, warehouses[code], cells.get("sku", ""), quantity,
                                                       reason=_reference(cells), payload_ref=payload_ref, repeat_ok=True)
        else:
            _, booked = await levels.receive_once(actor, warehouses[code], cells.get("sku", ""), quantity,
                                                  cells.get("reference", ""), payload_ref=payload_ref)
        return sheets.CREATED if booked else sheets.UNCHANGED

    return await sheets.apply_sheet(rows, LAYOUT, apply, paths=PATHS, batch_size=batch_size, progress=progress)


def _reference(cells: Mapping[str, str]) -> str:
    reference = cells.get("reference", "")
    return f"ref {reference}" if reference else ""
