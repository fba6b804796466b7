"""``EventType``: the lineage's event types as a GraphQL enum, made from ``events.catalogue``.

GraphQL shows the names (``ORDER_CREATED``); the stored string
(``order.created``) is each member's ``.value`` and an event's ``typeCode``. A
type added to the catalogue appears here without an edit. A stored type the
catalogue does not know (an old row) is ``OTHER``, its string in ``typeCode``::

    event_type_of("order.created") is EventType.ORDER_CREATED
    event_type_of("legacy.thing") is EventType.OTHER
"""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.errors import ValidationFailed
from events.catalogue import CATALOGUE, enum_name
from schema.enum_values import describe_values

#: The value of ``OTHER``: no stored type looks like it (they are all ``area.verb``).
OTHER_CODE = "other"

EventType = describe_values(
    strawberry.enum(
        Enum("EventType", {**{enum_name(entry.type): entry.type for entry in CATALOGUE}, "OTHER": OTHER_CODE}),  # type: ignore[misc]
        description="What an event records, from the event catalogue (docs/partners.md); the stored string is the "
        "event's `typeCode`. OTHER: a type this version does not know (an older row); read its `typeCode`.",
    ),
    {
        **{enum_name(entry.type): f"`{entry.type}`: {entry.fires}." for entry in CATALOGUE},
        "OTHER": "A stored type the catalogue does not know (e.g. written by an older version); see `typeCode`.",
    },
)

_BY_CODE = {member.value: member for member in EventType}  # type: ignore[attr-defined]


def event_type_of(code: str) -> EventType:  # type: ignore[valid-type]
    """The enum member for a stored type string, ``OTHER`` for one the catalogue does not know."""
    member = _BY_CODE.get(code)
    return member if member is not None and code != OTHER_CODE else EventType.OTHER  # type: ignore[attr-defined]


def filter_types(types: list[str] | None, event_types: list[EventType] | None) -> list[str] | None:  # type: ignore[valid-type]
    """A filter's ``types`` (strings, ``stock.*`` prefixes) and ``eventTypes`` (enum values) as one list of strings.

    Either matches: the union. None when neither is given (every type).
    ``OTHER`` names no stored string, so it is refused: filter such rows by
    their ``typeCode`` in ``types``.
    """
    if not types and not event_types:
        return None
    chosen = list(event_types or ())
    if EventType.OTHER in chosen:  # type: ignore[attr-defined]
        raise ValidationFailed("OTHER names no stored type: filter by its typeCode in `types`", field="eventTypes")
    return [*(types or ()), *(member.value for member in chosen)]
