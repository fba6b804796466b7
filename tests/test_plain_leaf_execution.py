"""The executor's short path for plain leaf fields answers exactly what graphql-core's own path answers.

Each query runs on two copies of one schema, with Strawberry's execution context and with
``schema.execution.PlainLeafExecutionContext``; data, key order and errors (message, path) must be the same.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
import strawberry

from schema.execution import PlainLeafExecutionContext


@strawberry.enum
class Colour(Enum):
    RED = "red"
    GREEN = "green"


@strawberry.type
class Item:
    name: str
    price: Decimal
    colour: Colour
    at: datetime
    note: str | None = None
    must: str = "x"
    hidden: strawberry.Private[int] = 0

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    async def later(self) -> str:
        await asyncio.sleep(0)
        return f"later {self.name}"

    @strawberry.field
    def priced(self, times: int = 1) -> Decimal:
        return self.price * times


AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _items() -> list[Item]:
    return [Item(name="tea", price=Decimal("88.00"), colour=Colour.GREEN, at=AT, note="n"),
            Item(name="cup", price=Decimal("5.50"), colour=Colour.RED, at=AT)]


@strawberry.type
class Box:
    """Synchronous resolvers without extensions: the short path calls them directly."""

    n: int

    @strawberry.field
    def item(self) -> Item:
        return _items()[self.n % 2]

    @strawberry.field
    def items(self, first: int | None = None) -> list[Item]:
        return _items()[:first]

    @strawberry.field
    def holes(self) -> list[Item | None]:
        return [_items()[0], None]

    @strawberry.field
    def bad_items(self) -> list[Item]:
        return [_items()[0], None]  # type: ignore[list-item]  # a null in a non-null list: nulls the box

    @strawberry.field
    def fails(self) -> str | None:
        raise ValueError(f"box {self.n} fails")

    @strawberry.field
    def must(self) -> str:
        if self.n == 1:
            raise ValueError("box 1 has no must")
        return "m"

    @strawberry.field
    def where(self, info: strawberry.Info) -> str:
        return f"{info.field_name}@{'/'.join(map(str, info.path.as_list()))}"

    @strawberry.field
    def later_items(self) -> list[Item]:
        return _items()

    @strawberry.field
    def not_an_item(self) -> Item:
        return "tea"  # type: ignore[return-value]  # not an Item: is_type_of refuses it


@strawberry.type
class Query:
    @strawberry.field
    def boxes(self) -> list[Box | None]:
        return [Box(n=0), Box(n=1)]

    @strawberry.field
    def items(self) -> list[Item]:
        return _items()

    @strawberry.field
    def broken(self) -> list[Item | None]:
        """The second item breaks its non-null `must`: null propagates to the item, with graphql-core's error."""
        items = _items()
        items[1].must = None  # type: ignore[assignment]
        return items

    @strawberry.field
    def wrong_type(self) -> Item:
        item = _items()[0]
        item.colour = "purple"  # type: ignore[assignment]  # not a Colour: the enum refuses it
        return item


SCHEMAS = {
    "strawberry": strawberry.Schema(query=Query),
    "short path": strawberry.Schema(query=Query, execution_context_class=PlainLeafExecutionContext),
}

QUERIES = [
    "{ items { name price colour at note must } }",
    "{ items { at shout name later priced(times: 3) colour } }",
    "{ items { a: name b: name name ...F __typename } } fragment F on Item { price name note }",
    "{ items { name @skip(if: true) price @include(if: false) colour } }",
    "{ broken { name must price } }",
    "{ wrongType { name colour } }",
    "{ boxes { n item { name colour } items(first: 1) { name later } where holes { name } fails } }",
    "{ boxes { n must item { shout } } }",
    "{ boxes { badItems { name } n } }",
    "{ boxes { laterItems { later priced(times: 2) } } }",
    "{ boxes { notAnItem { name } n } }",
    "query Q($k: Int) { boxes { items(first: $k) { name } } }",
]


def _run(schema: strawberry.Schema, query: str) -> dict[str, Any]:
    result = asyncio.run(schema.execute(query))
    errors = [{"message": e.message, "path": e.path} for e in result.errors or []]
    return {"data": json.dumps(result.data, default=str), "errors": errors}


@pytest.mark.parametrize("query", QUERIES)
def test_short_path_answers_as_graphql_core(query: str) -> None:
    plain, short = (_run(schema, query) for schema in SCHEMAS.values())
    assert short == plain


def test_a_null_in_a_non_null_field_nulls_its_item_and_names_the_field() -> None:
    answer = asyncio.run(SCHEMAS["short path"].execute("{ broken { name must } }"))
    assert answer.data == {"broken": [{"name": "tea", "must": "x"}, None]}
    assert [(e.path, "Item.must" in e.message) for e in answer.errors] == [(["broken", 1, "must"], True)]
