"""Prometheus counters and latencies per GraphQL operation (not per field: kept off the hot path)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import Counter, Histogram
from strawberry.extensions import SchemaExtension

OPERATIONS = Counter(
    "ordergraph_graphql_operations_total", "GraphQL operations", ["operation", "type", "outcome"]
)
LATENCY = Histogram(
    "ordergraph_graphql_operation_seconds",
    "GraphQL operation latency",
    ["operation", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


#: Operation names are chosen by clients; cap them so metrics memory stays bounded.
MAX_OPERATION_NAMES = 200
_seen_names: set[str] = set()


def _label(name: str | None) -> str:
    name = (name or "anonymous")[:64]
    if name in _seen_names:
        return name
    if len(_seen_names) < MAX_OPERATION_NAMES:
        _seen_names.add(name)
        return name
    return "other"


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        name = _label(context.operation_name)
        try:
            kind = context.operation_type.value
        except Exception:  # the document did not parse
            kind = "invalid"
        result = context.result
        outcome = "error" if result is None or getattr(result, "errors", None) else "ok"
        OPERATIONS.labels(name, kind, outcome).inc()
        LATENCY.labels(name, kind).observe(time.perf_counter() - started)
