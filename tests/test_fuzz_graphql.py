"""Fuzzing the served schema: 1,200 generated queries and mutations, valid and invalid, and not one 5xx.

hypothesis-graphql (the generator behind schemathesis's GraphQL support)
builds documents from the schema the server itself prints, including NUL
characters, nulls, huge numbers and wrong types; each goes to a real
``ordergraph serve`` process as an admin, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC

import httpx
from graphql import build_client_schema, get_introspection_query
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from tests.helpers import paid_order
from tests.served import served

#: Cases per mode and kind; 4 x 300 = 1,200 per backend.
CASES = 300

#: Our custom scalars, as literals: plausible values and the hostile ones next to each other.
SCALARS = {
    "Decimal": st.one_of(st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
                         st.text(max_size=30)).map(nodes.String),
    "DateTime": st.one_of(st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.isoformat()),
                          st.text(max_size=30)).map(nodes.String),
    "JSON": st.one_of(st.integers(), st.text(max_size=50)).map(
        lambda value: nodes.Int(value) if isinstance(value, int) else nodes.String(value)),
}


def _fuzz(client: httpx.Client, key: str, strategy: st.SearchStrategy[str], seen: list[int],
          recent: list[str]) -> None:
    @settings(max_examples=CASES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(document=strategy)
    def case(document: str) -> None:
        recent.append(document)
        del recent[:-5]
        try:
            response = client.post("/graphql", json={"query": document}, headers={"authorization": f"Bearer {key}"})
        except httpx.TimeoutException:
            shown = "\n----\n".join(text[:1500] for text in recent)
            raise AssertionError(f"no answer within {client.timeout.read} s; the last requests:\n{shown}") from None
        seen.append(response.status_code)
        assert response.status_code < 500, (document[:500], response.text[:500])

    case()


async def test_no_generated_request_gets_a_5xx(world, db):
    await paid_order(world.actor(), world.channel.id, "FUZZ-1")
    seen: list[int] = []
    recent: list[str] = []
    with served(db) as base, httpx.Client(base_url=base, timeout=30) as client:
        key = world.keys["admin"]
        introspection = client.post("/graphql", json={"query": get_introspection_query()},
                                    headers={"authorization": f"Bearer {key}"}).json()["data"]
        schema = build_client_schema(introspection)
        for mode in (Mode.POSITIVE, Mode.NEGATIVE):
            _fuzz(client, key, queries(schema, mode=mode, custom_scalars=SCALARS), seen, recent)
            _fuzz(client, key, mutations(schema, mode=mode, custom_scalars=SCALARS), seen, recent)
        health = client.get("/healthz")
    assert len(seen) >= 4 * CASES * 0.9, len(seen)  # hypothesis may stop early only on exhausting a small space
    assert all(status < 500 for status in seen)
    assert health.status_code == 200
