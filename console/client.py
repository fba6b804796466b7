"""The console's way to the data: GraphQL documents executed in-process against the real schema.

    client = GraphQLClient(schema, bus=bus, max_page_size=100)
    result = await client.run(actor, request, ORDER_SEARCH, {"search": "OG000000042"})
    result.data, result.problems          # problems: [Problem(code, message)], from GraphQL errors and payload errors
    rows, result = await client.rows(actor, request, ("rules", "id name"))   # a list or a connection's nodes

The context is the one ``api.graphql_app`` builds for an API key, with the
signed-in person's actor instead, so permissions, masking and lineage are
exactly the API's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import get_named_type, get_nullable_type

from domain.actor import Actor
from resolvers.context import Context


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    field: str | None = None


@dataclass
class Result:
    data: dict[str, Any] | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class GraphQLClient:
    def __init__(self, schema: Any, *, bus: Any, max_page_size: int) -> None:
        self.schema = schema
        self.bus = bus
        self.max_page_size = max_page_size

    async def run(self, actor: Actor, request: Any, document: str, variables: dict[str, Any] | None = None,
                  *, payload: str | None = None) -> Result:
        """Execute ``document``; with ``payload`` (a mutation's field name) its ``errors`` list counts as problems too."""
        context = Context(actor=actor, request=request, bus=self.bus, max_page_size=self.max_page_size)
        executed = await self.schema.execute(document, variable_values=variables or {}, context_value=context)
        problems = [Problem(str((e.extensions or {}).get("code", "ERROR")), e.message) for e in executed.errors or []]
        data = executed.data
        if payload and data and isinstance(data.get(payload), dict):
            problems += [Problem(e.get("code", "ERROR"), e.get("message", ""), e.get("field"))
                         for e in data[payload].get("errors") or []]
        return Result(data, problems)

    def listing(self, field: str, selection: str) -> str:
        """``query { field { selection } }``, or ``… { nodes { selection } } }`` when ``field`` is a connection."""
        query_type = self.schema._schema.query_type
        found = query_type.fields.get(field) if query_type is not None else None
        named = get_named_type(get_nullable_type(found.type)) if found is not None else None
        if named is not None and "nodes" in getattr(named, "fields", {}):
            return f"query {{ {field}(first: 100) {{ nodes {{ {selection} }} }} }}"
        return f"query {{ {field} {{ {selection} }} }}"

    async def rows(self, actor: Actor, request: Any, spec: tuple[str, str]) -> tuple[list[dict[str, Any]], Result]:
        """The rows of a top-level list (``spec`` = field, selection), whichever shape the schema gives it."""
        field, selection = spec
        result = await self.run(actor, request, self.listing(field, selection))
        value = (result.data or {}).get(field)
        if isinstance(value, dict):
            value = value.get("nodes")
        return list(value or []), result
