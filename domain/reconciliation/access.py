"""Who may reconcile and who may read the results: finance, admins and ops run it; auditors also read and export."""

from __future__ import annotations

from domain.actor import Actor, Role
from domain.errors import Forbidden

RUNNERS = frozenset({Role.ADMIN, Role.OPS, Role.FINANCE})
READERS = RUNNERS | {Role.AUDITOR}


def require_runner(actor: Actor) -> None:
    if actor.role not in RUNNERS:
        raise Forbidden("only finance, ops and admins run a reconciliation")


def require_reader(actor: Actor) -> None:
    if actor.role not in READERS:
        raise Forbidden("only finance, ops, admins and auditors read reconciliations")
