"""Keyset pagination: the cursor is the last row's (sort value, id), never an offset.

    page = await keyset_page(Order.filter(tenant_id=1), "created_at", descending=True, first=20, after=None)
    page.rows, page.has_next, page.end_cursor
    await page.count()   # rows of the whole (unpaged) query: one COUNT, only when asked
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet


class BadCursor(ValueError):
    """A cursor this API did not issue; ``code`` is the GraphQL ``extensions.code``."""

    code = "BAD_CURSOR"


class BadPageSize(ValueError):
    """``first``/``last`` outside the allowed range; ``code`` is the GraphQL ``extensions.code``."""

    code = "BAD_PAGE_SIZE"


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Any]
    has_next: bool
    sort_field: str
    has_previous: bool = False
    source: QuerySet[Any] | None = field(default=None, compare=False, repr=False)

    def cursor_of(self, row: Any) -> str:
        return encode_cursor(getattr(row, self.sort_field), row.id)

    @property
    def end_cursor(self) -> str | None:
        return self.cursor_of(self.rows[-1]) if self.rows else None

    @property
    def start_cursor(self) -> str | None:
        return self.cursor_of(self.rows[0]) if self.rows else None

    async def count(self) -> int:
        """How many rows the whole list holds, every page together (the query before the cursor narrowed it)."""
        if self.source is None:
            raise RuntimeError("this page was built without its query")
        return await self.source.count()


def encode_cursor(value: Any, pk: int) -> str:
    raw = value.isoformat() if isinstance(value, datetime) else value
    return base64.urlsafe_b64encode(json.dumps([raw, pk]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[Any, int]:
    try:
        if len(cursor) > 200:
            raise ValueError
        raw, pk = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        if not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk < 2**31:
            raise ValueError
        if isinstance(raw, str):
            value: Any = datetime.fromisoformat(raw)
            if value.tzinfo is None:
                raise ValueError
        elif isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 2**31:
            value = raw
        else:
            raise ValueError
    except (ValueError, TypeError, UnicodeError):
        raise BadCursor(f"{cursor[:40]!r} is not a cursor this API issued") from None
    return value, pk


def check_page_size(first: int, maximum: int) -> None:
    if first < 0 or first > maximum:
        raise BadPageSize(f"first must be between 0 and {maximum}, got {first}")


async def keyset_page(
    query: QuerySet[Any], sort_field: str, *, descending: bool, first: int, after: str | None
) -> Page:
    source = query
    if after:
        value, pk = decode_cursor(after)
        op = "lt" if descending else "gt"
        query = query.filter(Q(**{f"{sort_field}__{op}": value}) | Q(**{sort_field: value, f"id__{op}": pk}))
    prefix = "-" if descending else ""
    rows = await query.order_by(f"{prefix}{sort_field}", f"{prefix}id").limit(first + 1)
    return Page(rows=list(rows[:first]), has_next=len(rows) > first, sort_field=sort_field, has_previous=bool(after),
                source=source)
