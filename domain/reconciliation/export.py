"""A run's totals and diffs as CSV or XLSX bytes: what finance opens in Excel, the download route and the CLI send.

    name, media_type, data = await export(actor, run_id, "xlsx")    # "reconciliation-2026-11-30-run-12.xlsx"

CSV (UTF-8 with a BOM, so Excel reads the Chinese notes): the run's summary
as ``field,value`` rows, an empty row, then the diffs table with a header row.
XLSX: a ``Summary`` sheet (the same rows) and a ``Differences`` sheet (the
table, figures as numbers). Totals' nested keys are flattened with dots
(``amount.CNY.erp``). Diffs are read in pages, written in streaming mode.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterator, Mapping
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from domain.actor import Actor
from domain.errors import ValidationFailed
from domain.reconciliation.queries import diff_query, run_of
from models import ReconciliationRun

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
COLUMNS = ("order", "order_id", "dimension", "channel", "erp", "wms", "gateway", "difference", "note")
PAGE = 5000


async def export(actor: Actor, run_id: int, fmt: str) -> tuple[str, str, bytes]:
    """``(file name, media type, bytes)`` of one of the tenant's runs in ``csv`` or ``xlsx``."""
    if fmt not in FORMATS:
        raise ValidationFailed("format is csv or xlsx", field="format")
    run = await run_of(actor, run_id)
    data = await (to_csv(run) if fmt == "csv" else to_xlsx(run))
    return f"reconciliation-{run.day.isoformat()}-run-{run.id}.{fmt}", FORMATS[fmt], data


def summary(run: ReconciliationRun) -> list[tuple[str, str]]:
    """The run's own fields, then its totals flattened (``quantity.erp``, ``amount.CNY.gateway`` …)."""
    rows = [("reconciliation", str(run.id)), ("day", run.day.isoformat()), ("status", run.status),
            ("threshold", format(run.threshold, "f")), ("orders_checked", str(run.orders_checked)),
            ("orders_differing", str(run.orders_differing)), ("error", run.error), ("started_by", run.started_by),
            ("started_at", run.started_at.isoformat() if run.started_at else ""),
            ("finished_at", run.finished_at.isoformat() if run.finished_at else "")]
    totals = {key: value for key, value in (run.totals or {}).items() if key != "first_differing"}
    return rows + [(f"totals.{key}", value) for key, value in _flatten(totals)]


def _flatten(node: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{name}.")
        elif isinstance(value, list):
            yield name, " .. ".join(str(item) for item in value)
        else:
            yield name, "" if value is None else str(value)


async def _diff_rows(run_id: int) -> AsyncIterator[list[Any]]:
    after = 0
    while True:
        page = await diff_query(run_id).filter(id__gt=after).order_by("id").limit(PAGE)
        for diff in page:
            yield [diff.reference, diff.order_id, diff.dimension, diff.channel_value, diff.erp_value, diff.wms_value,
                   diff.gateway_value, diff.difference, diff.note]
        if len(page) < PAGE:
            return
        after = page[-1].id


def _text(value: Any) -> str:
    if value is None:
        return ""
    return format(value, "f") if isinstance(value, Decimal) else str(value)


async def to_csv(run: ReconciliationRun) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("field", "value"))
    writer.writerows(summary(run))
    writer.writerow(())
    writer.writerow(COLUMNS)
    async for row in _diff_rows(run.id):
        writer.writerow([_text(value) for value in row])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


async def to_xlsx(run: ReconciliationRun) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Summary")
    sheet.append(("field", "value"))
    for row in summary(run):
        sheet.append(row)
    table = book.create_sheet("Differences")
    table.append(COLUMNS)
    async for row in _diff_rows(run.id):
        table.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
