"""Who may verify the lineage and ask for proofs: auditors and admins."""

from __future__ import annotations

from domain.actor import Actor, Role
from domain.errors import Forbidden

VERIFIERS = frozenset({Role.AUDITOR, Role.ADMIN})


def require_verifier(actor: Actor) -> None:
    if actor.role not in VERIFIERS:
        raise Forbidden("only auditors and admins verify the lineage")
