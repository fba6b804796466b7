"""``ordergraph lineage verify|seal|purge|public-key``: tamper evidence from the shell.

    ordergraph lineage verify [--tenant acme] [--from 120000]   exit 0: intact; 1: the first problem printed
    ordergraph lineage seal [--tenant acme]                      seal what is committed and sign checkpoints now
    ordergraph lineage purge --tenant acme --before 120000 --reason "retention: 7 years"
    ordergraph lineage public-key                                the Ed25519 key that signs checkpoints and the
                                                                 previous ones (the /audit/public-key document)
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys

from api.database import with_db
from api.settings import Settings
from domain.actor import Actor, Role
from domain.errors import NotFound


async def _tenant_ids(slug: str | None) -> list[int]:
    from models import AuditTree, OrderEvent, Tenant

    if slug:
        tenant = await Tenant.filter(slug=slug).first()
        if tenant is None:
            raise NotFound(f"no tenant {slug}", field="tenant")
        return [tenant.id]
    found = set(await AuditTree.all().values_list("tenant_id", flat=True))
    found |= set(await OrderEvent.all().distinct().values_list("tenant_id", flat=True))
    return sorted(found)


def cmd_verify(settings: Settings, args: argparse.Namespace) -> None:
    from domain.audit.verify import verify

    failed: list[bool] = []

    async def work() -> None:
        for tenant_id in await _tenant_ids(args.tenant):
            report = await verify(tenant_id, args.from_id)
            print(report.summary())
            if not report.ok:
                failed.append(True)
                return  # the first problem is the one to chase

    try:
        asyncio.run(with_db(settings, work))
    except NotFound as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    sys.exit(1 if failed else 0)


def cmd_seal(settings: Settings, args: argparse.Namespace) -> None:
    from domain.audit.sealer import Sealer, checkpoint_now, seal_pending

    async def work() -> None:
        sealed = await seal_pending(Sealer(every=settings.audit_checkpoint_every))
        signed = [c for t in await _tenant_ids(args.tenant) if (c := await checkpoint_now(t)) is not None]
        print(f"sealed {sealed} events; signed {len(signed)} checkpoints")

    asyncio.run(with_db(settings, work))


def cmd_purge(settings: Settings, args: argparse.Namespace) -> None:
    from domain.audit.purge import purge_before

    async def work() -> None:
        (tenant_id,) = await _tenant_ids(args.tenant)
        actor = Actor(tenant_id=tenant_id, role=Role.ADMIN, name=f"cli:purge:{getpass.getuser()}"[:100], source="cli")
        count = await purge_before(actor, args.before, args.reason)
        print(f"purged {count} events below {args.before} (tombstones keep the chain verifiable)")

    asyncio.run(with_db(settings, work))


def cmd_public_key(settings: Settings, args: argparse.Namespace) -> None:
    from domain.audit import signing

    print(json.dumps(signing.key_document()))


def add_commands(lineage: argparse._SubParsersAction) -> None:
    verify = lineage.add_parser("verify", help="recompute the hash chain; exit 1 naming the first bad event")
    verify.add_argument("--tenant", help="a tenant slug (default: every tenant)")
    verify.add_argument("--from", dest="from_id", type=int, default=None, help="check rows from this event id")
    verify.set_defaults(func=cmd_verify)
    seal = lineage.add_parser("seal", help="seal committed events and sign checkpoints now (writers quiet)")
    seal.add_argument("--tenant", help="sign checkpoints for this tenant only")
    seal.set_defaults(func=cmd_seal)
    purge = lineage.add_parser("purge", help="retention: tombstone events below an id (recorded as an event)")
    purge.add_argument("--tenant", required=True)
    purge.add_argument("--before", type=int, required=True)
    purge.add_argument("--reason", required=True)
    purge.set_defaults(func=cmd_purge)
    lineage.add_parser("public-key", help="the key that signs checkpoints and the previous ones (JSON)").set_defaults(func=cmd_public_key)
