"""Lineage verification in GraphQL: glue from arguments to ``domain.audit`` (auditors and admins only)."""

from __future__ import annotations

from domain.audit.access import require_verifier
from domain.audit.verify import ConsistencyProof, InclusionProof, VerifyReport, consistency_proof, inclusion_proof, verify
from domain.errors import ValidationFailed
from models import AuditCheckpoint
from resolvers.context import Context
from resolvers.orders import actor_of
from resolvers.pagination import Page, check_page_size, keyset_page


def _event_id(text: str, field: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValidationFailed("an event id is a number", field=field) from None
    if value <= 0:
        raise ValidationFailed("an event id is positive", field=field)
    return value


async def verification(ctx: Context, from_id: str | None) -> VerifyReport:
    actor = actor_of(ctx)
    require_verifier(actor)
    return await verify(actor.tenant_id, _event_id(from_id, "fromId") if from_id else None)


async def checkpoints(ctx: Context, first: int, after: str | None) -> Page:
    """A page of signed checkpoints, largest tree first."""
    actor = actor_of(ctx)
    require_verifier(actor)
    check_page_size(first, ctx.max_page_size)
    return await keyset_page(AuditCheckpoint.filter(tenant_id=actor.tenant_id), "tree_size", descending=True,
                             first=first, after=after)


async def inclusion(ctx: Context, event_id: str, tree_size: int | None) -> InclusionProof:
    actor = actor_of(ctx)
    require_verifier(actor)
    return await inclusion_proof(actor.tenant_id, _event_id(event_id, "eventId"), tree_size)


async def consistency(ctx: Context, first: int, second: int | None) -> ConsistencyProof:
    actor = actor_of(ctx)
    require_verifier(actor)
    return await consistency_proof(actor.tenant_id, first, second)
