"""The exception board's GraphQL enums, made from the domain's vocabulary (``domain.alerts.kinds``).

GraphQL shows the names (``LOW_STOCK``, ``CRITICAL``); the stored value
(``low_stock``) is each member's ``.value``, and an alert's ``kindCode``. A kind
added to the domain appears here without an edit.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.alerts import kinds


def _mirror(name: str, source: type[Enum], description: str) -> type[Enum]:
    return strawberry.enum(Enum(name, {member.name: member.value for member in source}),  # type: ignore[misc]
                           description=description)


AlertKind = _mirror("AlertKind", kinds.AlertKind, "What an alert is about; its stored code is the alert's `kindCode`.")
AlertCategory = _mirror("AlertCategory", kinds.Category,
                        "Groups of kinds, as OMS exception lists know them (order changed, buyer, intercept, platform …).")
AlertSeverity = _mirror("AlertSeverity", kinds.Severity, "How urgent; sets the SLA (critical 15 min, warning 2 h, info 24 h).")
AlertState = _mirror("AlertState", kinds.AlertState, "open -> acknowledged -> resolved; snoozed until a time; resolved may reopen.")
