"""Applying a set-up spreadsheet (catalogue items, opening stock) row by row, valid rows in batches.

A reader (``adapters.files`` through the CLI) hands rows in as ``SheetRow``:
cells by header name, or the reason the reader could not read the row.
``apply_sheet`` checks the header once (an unknown or missing column refuses
the whole file before anything is written), then commits the rows in batches
of ``batch_size``: each batch is one transaction and each row a savepoint
inside it, so a refused row leaves nothing behind while the rows around it
apply. Every refusal is reported with its spreadsheet row number (the header
is row 1), the column and the reason. The row actions are idempotent, so
running the same file again reports the rows as unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from tortoise.transactions import in_transaction

from domain.errors import DomainError, ValidationFailed
from domain.unit_of_work import unit_of_work

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"

_TRUE = frozenset({"true", "yes", "y", "1", "是", "启用", "有效"})
_FALSE = frozenset({"false", "no", "n", "0", "否", "停用", "无效"})
_SPACES = re.compile(r"[\s\-]+")


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One data row as the reader gave it: cells by header name, or why it could not be read."""

    number: int
    cells: Mapping[str, str] | None = None
    field: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class Refusal:
    row: int
    field: str
    message: str


@dataclass(slots=True)
class SheetReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[Refusal] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns a kind of sheet understands: canonical name -> header spellings accepted for it."""

    names: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]

    def resolve(self, header: Iterable[str]) -> dict[str, str]:
        """Header name in the file -> canonical column; refuses unknown and missing columns."""
        spellings = {_key(alias): name for name, aliases in self.names.items() for alias in (name, *aliases)}
        found: dict[str, str] = {}
        unknown = []
        for column in header:
            if not column.strip():
                continue
            name = spellings.get(_key(column))
            if name is None:
                unknown.append(column)
            elif name in found.values():
                raise ValidationFailed(f"columns {column!r} and another both mean {name}", field="file")
            else:
                found[column] = name
        if unknown:
            raise ValidationFailed(f"unknown column(s) {', '.join(map(repr, unknown))}; this file takes "
                                   f"{', '.join(self.names)}", field="file")
        missing = [name for name in self.required if name not in found.values()]
        if missing:
            raise ValidationFailed(f"missing column(s) {', '.join(missing)}", field="file")
        return found


def _key(name: str) -> str:
    return _SPACES.sub("_", name.strip().lower())


# --- cell readers: text as a spreadsheet holds it -> typed values, refusals name the column ------


def whole(text: str, column: str) -> int:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise ValidationFailed(f"{text!r} is not a whole number", field=column) from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ValidationFailed(f"{text!r} is not a whole number", field=column)
    return int(number)


def yes_no(text: str, column: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValidationFailed(f"{text!r} is not true or false (yes/no, 1/0 also work)", field=column)


#: What a row does: its cells by canonical column -> created, updated or unchanged.
RowAction = Callable[[int, Mapping[str, str]], Awaitable[str]]


async def apply_sheet(
    rows: Iterable[SheetRow],
    layout: Layout,
    action: RowAction,
    *,
    paths: Mapping[str, str],
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> SheetReport:
    """Apply every row with ``action``; ``paths`` maps a use case's field names back to canonical columns."""
    if not 1 <= batch_size <= 10_000:
        raise ValidationFailed("batch size must be between 1 and 10,000", field="batch")
    report = SheetReport()
    header: dict[str, str] | None = None
    batch: list[SheetRow] = []
    for row in rows:
        if header is None and row.cells is not None:
            header = layout.resolve(row.cells)
        batch.append(row)
        if len(batch) >= batch_size:
            await _commit(batch, header or {}, action, paths, report)
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        await _commit(batch, header or {}, action, paths, report)
        if progress:
            progress(len(batch))
    return report


async def _commit(batch: list[SheetRow], header: dict[str, str], action: RowAction, paths: Mapping[str, str],
                  report: SheetReport) -> None:
    columns = {name: column for column, name in header.items()}
    async with unit_of_work():
        for row in batch:
            report.rows += 1
            if row.cells is None:
                report.refused.append(Refusal(row.number, row.field, row.error))
                continue
            cells = {header[column]: value.strip() for column, value in row.cells.items() if column in header}
            try:
                async with in_transaction():  # a savepoint: a refused row undoes only itself
                    report.count(await action(row.number, cells))
            except DomainError as error:
                name = paths.get(error.field or "", error.field or "")
                report.refused.append(Refusal(row.number, columns.get(name, name), error.message))
