"""Health figures in GraphQL: glue from the caller to ``domain.health`` (the domain checks the role and ``days``)."""

from __future__ import annotations

from domain import health
from resolvers.context import Context
from resolvers.orders import actor_of


async def health_figures(ctx: Context, days: int) -> health.HealthFigures:
    return await health.health_figures(actor_of(ctx), days)
