"""Order files (CSV, XLSX) read as rows of text, numbered as a spreadsheet shows them (header = row 1).

Every cell becomes a string, so the same JMESPath mapping and converters as
a generic webhook apply: ``"2"`` is a quantity, ``"59.90"`` an amount. What a
spreadsheet cannot hold exactly is refused rather than rounded: a number
beyond 2^53 (a 19-digit order id typed into Excel has already lost digits).
CSV must be UTF-8 (Excel's BOM is fine) unless another encoding is named.
XLSX is read with openpyxl in read-only mode, one row at a time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

FORMATS = ("csv", "xlsx")
_XLSX_MAGIC = b"PK\x03\x04"


class FileError(ValueError):
    """The file as a whole cannot be read (wrong format, encoding, no header)."""


class CellError(ValueError):
    """One cell cannot be represented exactly; the row is refused with this reason."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(f"{column}: {message}")
        self.column = column


Row = dict[str, str]


def detect_format(file_name: str, data: bytes, explicit: str | None = None) -> str:
    """``explicit`` if given, else the extension, else the content (an XLSX file is a zip)."""
    if explicit:
        if explicit not in FORMATS:
            raise FileError(f"format is one of {', '.join(FORMATS)}")
        return explicit
    lowered = file_name.lower()
    if lowered.endswith(".xlsx"):
        return "xlsx"
    if lowered.endswith(".csv") or lowered.endswith(".txt"):
        return "csv"
    return "xlsx" if data.startswith(_XLSX_MAGIC) else "csv"


def read_rows(data: bytes, fmt: str, *, encoding: str = "utf-8") -> Iterator[tuple[int, Row | CellError]]:
    """``(row_number, row)`` for every data row; blank rows are skipped, unreadable cells yield a ``CellError``."""
    if fmt == "xlsx":
        return _xlsx_rows(data)
    return _csv_rows(data, encoding)


def _csv_rows(data: bytes, encoding: str) -> Iterator[tuple[int, Row | CellError]]:
    try:
        text = data.decode("utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise FileError(f"the file is not {encoding} text ({exc}); save it as CSV UTF-8 or name its encoding") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise FileError("the file has no header row")
    names = _header(header)
    for index, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(names) and any(cell.strip() for cell in cells[len(names):]):
            yield index, CellError("$", f"{len(cells)} cells but only {len(names)} columns in the header")
            continue
        yield index, {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(names)}


def _header(cells: list[Any]) -> list[str]:
    names = [str(cell).strip() if cell is not None else "" for cell in cells]
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            raise FileError(f"column {name!r} appears twice in the header")
        seen.add(name)
    return names


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, Row | CellError]]:
    from openpyxl import load_workbook  # imported here: only imports need it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a non-workbook
        raise FileError(f"not a readable XLSX workbook ({type(exc).__name__})") from None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if not header or not any(cell not in (None, "") for cell in header):
            raise FileError("the first sheet has no header row")
        names = _header(list(header))
        for index, values in enumerate(rows, start=2):
            if values is None or all(value in (None, "") for value in values):
                continue
            try:
                yield index, {name: _cell(values[i] if i < len(values) else None, name or f"column {i + 1}")
                              for i, name in enumerate(names) if name}
            except CellError as error:
                yield index, error
    finally:
        book.close()


def _cell(value: Any, column: str) -> str:
    """One spreadsheet value as exact text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if abs(value) >= 2**53:
            raise CellError(column, f"{value!r} is too large to be exact in a spreadsheet; format the column as text")
        if value.is_integer():
            return str(int(value))
        return str(Decimal(repr(value)))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value.tzinfo is None else value.isoformat()
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d 00:00:00")
    if isinstance(value, time):
        raise CellError(column, f"a time of day ({value}) is not a timestamp")
    return str(value).strip()


def count_rows(data: bytes, fmt: str, *, encoding: str = "utf-8") -> int:
    """How many data rows the file has (for a progress bar)."""
    return sum(1 for _ in read_rows(data, fmt, encoding=encoding))
