"""Lineage sealing inside the app: the leader runs the ``audit`` outbox consumer and signs stale checkpoints.

    live.leadership.jobs.extend(audit_jobs(settings))     # api/app.py, when ORDERGRAPH_AUDIT is on

The consumer has its own durable cursor (``audit``) and writes its leaves, tree edges, checkpoints and
cursor advance in one transaction, so a restart or a new leader continues exactly where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.settings import Settings
from domain.audit import signing
from domain.audit.sealer import Sealer, checkpoint_stale
from events.dispatcher import Dispatcher
from events.gaps import policy_for
from events.outbox import OutboxReader

log = logging.getLogger("ordergraph.audit")


class CheckpointWatch:
    """A leader job: sign every tenant's new leaves once its last checkpoint is ``seconds`` old."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.seconds)
            try:
                await checkpoint_stale(self.seconds)
            except Exception:  # keep signing through a database blip
                log.exception("lineage checkpoints failed; retrying next period")


def audit_jobs(settings: Settings) -> list[Callable[[], Awaitable[None]]]:
    sealer = Sealer(every=settings.audit_checkpoint_every, seconds=settings.audit_checkpoint_seconds)
    consumer = Dispatcher(sealer, reader=OutboxReader(policy_for(settings.database_url), batch=2000),
                          poll_interval=max(settings.poll_interval, 0.25))
    jobs = [consumer.run]
    if settings.audit_checkpoint_seconds > 0:
        jobs.append(CheckpointWatch(settings.audit_checkpoint_seconds).run)
    return jobs


async def public_key(request: Request) -> Response:
    """The Ed25519 key that signs lineage checkpoints, and in ``previous`` the keys that signed earlier ones
    (``ORDERGRAPH_AUDIT_PREVIOUS_PUBLIC_KEYS``), each with its key id: ``tools/verify_lineage.py --public-key-file``
    reads this document as it is."""
    return JSONResponse(signing.key_document())


def audit_routes() -> list[Route]:
    return [Route("/audit/public-key", public_key)]
