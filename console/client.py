"""The console's way to the data: GraphQL documents executed in-process against the real schema.

    client = GraphQLClient(schema, bus=bus, max_page_size=100)
    result = await client.run(actor, request, ORDER_SEARCH, {"search": "OG000000042"})
    result.data, result.problems          # problems: [Problem(code, message)], from GraphQL errors and payload errors

The context is the one ``api.graphql_app`` builds for an API key, with the
signed-in person's actor instead, so permissions, masking and lineage are
exactly the API's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
