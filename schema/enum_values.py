"""Descriptions for the values of GraphQL enums made from domain enums.

The domain's enums stay free of Strawberry, so ``strawberry.enum_value(..., description=...)`` cannot be
written where their members are defined; this gives each GraphQL value its description after
``strawberry.enum(...)`` wrapped the domain enum:

    OrderStatus = describe_values(strawberry.enum(statuses.OrderStatus), {"PAID": "Paid in full.", ...})

Naming a value the enum does not have fails at import (a renamed member cannot leave a stale text behind);
a member added to the domain still appears at once, and ``tests/test_schema_descriptions.py`` lists it until
it is described.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound=type[Enum])


def describe_values(enum: E, descriptions: Mapping[str, str]) -> E:
    """``enum`` (already a strawberry enum), with ``descriptions`` (by GraphQL value name) on its values."""
    definition = enum.__strawberry_definition__  # type: ignore[attr-defined]
    unknown = set(descriptions) - {value.name for value in definition.values}
    if unknown:
        raise ValueError(f"{definition.name} has no values {sorted(unknown)}")
    for value in definition.values:
        value.description = descriptions.get(value.name, value.description)
    return enum
