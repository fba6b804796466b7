"""Reading an order file (CSV/XLSX, ``adapters.files``) into parsed row groups with a channel's generic mapping.

The ``OrderFiles`` port of ``domain.intake.bulk_import.import_file``, which
applies the groups (``ordergraph import`` and the ``importOrders`` mutation).
Rows of one order must be adjacent and share its external id; the mapping is the
channel's generic JMESPath mapping (``import_mapping`` if it has one),
evaluated on a document made of the order's first row plus ``rows``, the
list of all its rows — so ``"lines": "rows"`` reads one line per row, and
``"lines": "[@]"`` reads a file with one single-line order per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

import jmespath
from jmespath.parser import ParsedResult

from adapters import files
from adapters.channels import generic
from adapters.reader import is_missing
from domain.inbound.formats import ParsedGroup
from domain.inbound.normalized import PayloadError


@lru_cache(maxsize=256)
def _compile(expression: str) -> ParsedResult:
    return jmespath.compile(expression)


def parsed_groups(
    data: bytes, fmt: str, mapping: Mapping[str, str], *, encoding: str = "utf-8", start_row: int = 2
) -> Iterator[ParsedGroup]:
    """Group adjacent rows by external id and parse each group; refusals carry their row numbers."""
    key = _compile(mapping["external_id"])
    seen: dict[str, int] = {}
    rows: list[files.Row] = []
    first = last = 0
    current: str | None = None
    bad_repeat = False

    def flush() -> ParsedGroup | None:
        if not rows:
            return None
        if bad_repeat:
            return ParsedGroup(first, last, field="external_id",
                               error=f"order {current} already appeared at row {seen[current]}; "  # type: ignore[index]
                                     "rows of one order must be adjacent")
        document: dict[str, Any] = {**rows[0], "rows": list(rows)}
        try:
            return ParsedGroup(first, last, inbound=generic.parse_order(document, mapping))
        except PayloadError as error:
            return ParsedGroup(first, last, field=error.field, error=error.reason)

    for number, row in files.read_rows(data, fmt, encoding=encoding):
        if number < start_row:
            continue
        external = None if isinstance(row, files.CellError) else key.search(row)
        if current is not None and not isinstance(row, files.CellError) and external == current:
            rows.append(row)
            last = number
            continue
        done = flush()
        if done:
            yield done
        rows, current, bad_repeat = [], None, False
        if isinstance(row, files.CellError):
            yield ParsedGroup(number, number, field=row.column, error=str(row))
            continue
        if is_missing(external) or not isinstance(external, (str, int)):
            yield ParsedGroup(number, number, field="external_id", error="no external id in this row")
            continue
        current = str(external).strip()
        bad_repeat = current in seen
        seen.setdefault(current, number)
        rows, first, last = [row], number, number
    done = flush()
    if done:
        yield done


class OrderFileReader:
    """``domain.inbound.formats.OrderFiles`` over ``adapters.files`` and the generic JMESPath parser."""

    def check_mapping(self, mapping: Mapping[str, str]) -> None:
        generic.check_mapping(mapping)

    def detect_format(self, file_name: str, data: bytes, explicit: str | None) -> str:
        return files.detect_format(file_name, data, explicit)

    def count_rows(self, data: bytes, fmt: str, *, encoding: str) -> int:
        return files.count_rows(data, fmt, encoding=encoding)

    def groups(self, data: bytes, fmt: str, mapping: Mapping[str, str], *, encoding: str,
               start_row: int) -> Iterator[ParsedGroup]:
        return parsed_groups(data, fmt, mapping, encoding=encoding, start_row=start_row)
