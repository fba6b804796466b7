"""Relay-style connections: one shape for every paged list of the API.

Every connection reads ``edges { cursor node }``, ``nodes``, ``pageInfo`` and
``totalCount``; the count runs (one COUNT query) only when a client selects it.
A paged field declares its connection by subclassing the generic and builds it
from a keyset ``Page`` (``resolvers/pagination.py``)::

    @strawberry.type(description="Import runs, a page at a time.")
    class ImportRunConnection(Connection[ImportRun]):
        pass

    page = await keyset_page(query, "id", descending=True, first=first, after=after)
    return ImportRunConnection.of(page, ImportRun.from_row)

Subclassing (rather than ``Connection[ImportRun]`` inline) names the type
``ImportRunConnection`` for the schema; its edge type is ``ImportRunEdge``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry

from resolvers.pagination import Page

T = TypeVar("T")

PAGE_ARGUMENT = "How many items to return: 0 up to the page size limit (100 unless the server sets another)."
AFTER_ARGUMENT = "Resume after this cursor (an edge's `cursor` or `pageInfo.endCursor`)."


@strawberry.type(description="Where a page sits in the whole list, and the cursors to move from it.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow this page.")
    end_cursor: str | None = strawberry.field(description="The last item's cursor: pass it as `after` for the next page "
                                                          "(null on an empty page).")
    has_previous_page: bool = strawberry.field(default=False, description="Whether the page was asked for `after` a "
                                               "cursor (items came before it).")
    start_cursor: str | None = strawberry.field(default=None, description="The first item's cursor (null on an empty "
                                                "page).")

    @classmethod
    def of(cls, page: Page) -> PageInfo:
        return cls(has_next_page=page.has_next, end_cursor=page.end_cursor, has_previous_page=page.has_previous,
                   start_cursor=page.start_cursor)


@strawberry.type(description="One item of a page with the cursor that resumes the list after it.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass as `after` to get the items that follow this one.")
    node: T = strawberry.field(description="The item.")


async def _no_count() -> int:
    raise RuntimeError("this connection was built without a count")


@strawberry.type(description="A page of a list: its items (as `edges` with cursors, or plain `nodes`), where the page "
                             "sits (`pageInfo`) and how many items the whole list holds (`totalCount`).")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The page's items, each with its cursor.")
    page_info: PageInfo = strawberry.field(description="Whether more items follow, and the cursors to ask for them.")
    counter: strawberry.Private[Callable[[], Awaitable[int]]] = _no_count

    @strawberry.field(description="The page's items without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many items the whole list holds (one extra COUNT query; ask only if you show it).")
    async def total_count(self) -> int:
        return await self.counter()

    @classmethod
    def of(cls, page: Page, convert: Callable[[Any], T], *, edge: type[Any] = Edge) -> Any:
        """The connection of a keyset page; ``convert`` turns a row into the node type.

        ``edge`` is the edge class when a connection keeps a named one of its own (``EventEdge``).
        """
        edges = [edge(cursor=page.cursor_of(row), node=convert(row)) for row in page.rows]
        return cls(edges=edges, page_info=PageInfo.of(page), counter=page.count)
