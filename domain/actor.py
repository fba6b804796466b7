"""Who is acting: every use case takes one, and it ends up in the lineage."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OPS = "ops"
    WAREHOUSE = "warehouse"
    SERVICE = "service"
    FINANCE = "finance"
    AUDITOR = "auditor"
    PARTNER = "partner"


#: Roles that see phone numbers, names and addresses in clear.
PII_ROLES = frozenset({Role.ADMIN, Role.OPS, Role.SERVICE})
#: Roles that may change orders.
WRITE_ROLES = frozenset({Role.ADMIN, Role.OPS, Role.SERVICE})


@dataclass(frozen=True, slots=True)
class Actor:
    """A tenant-scoped caller. ``name`` is what lineage shows (never a secret)."""

    tenant_id: int
    role: Role
    name: str
    source: str = "graphql"
    key_id: int | None = None  # the API key behind the caller, if any: partner keys own their webhook endpoints

    @property
    def sees_personal_data(self) -> bool:
        return self.role in PII_ROLES

    @property
    def may_write(self) -> bool:
        return self.role in WRITE_ROLES
