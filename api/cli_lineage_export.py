"""``ordergraph lineage export`` and ``ordergraph lineage pack``: what an auditor takes away, from the shell.

    ordergraph lineage export --tenant acme --order OG000000042 --format jsonl -o order.jsonl
    ordergraph lineage export --tenant acme --from 2026-11-30 --to 2026-11-30 --by placed --format csv -o day.csv
    ordergraph lineage export --tenant acme --order OG000000042 --format pdf -o order.pdf
    ordergraph lineage pack --tenant acme --order OG000000042 -o OG000000042.zip

JSONL and CSV come with ``FILE.manifest.json`` (counts, first/last id, the
body's SHA-256, the signed checkpoint and the multiproof of the sealed records),
which ``python tools/verify_lineage.py --export FILE --public-key KEY`` checks
offline (it finds ``FILE.manifest.json`` itself). The command acts as
the tenant's auditor (personal data masked) unless ``--as-admin``; either
way the export is recorded as a ``lineage.exported`` event. Exit 2 when refused.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from datetime import date
from pathlib import Path

from api.database import with_db
from api.settings import Settings
from domain.actor import Actor, Role
from domain.errors import DomainError, NotFound


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2026-11-30") from None


async def _actor(args: argparse.Namespace, what: str) -> Actor:
    from models import Tenant

    tenant = await Tenant.filter(slug=args.tenant).first()
    if tenant is None:
        raise NotFound(f"no tenant {args.tenant}", field="tenant")
    role = Role.ADMIN if getattr(args, "as_admin", False) else Role.AUDITOR
    return Actor(tenant_id=tenant.id, role=role, name=f"cli:lineage-{what}:{getpass.getuser()}"[:100], source="cli")


def cmd_export(settings: Settings, args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from domain.lineage.export import export_lineage
    from domain.lineage.pdf import order_pdf
    from domain.lineage.scope import order_scope, range_scope

    out = Path(args.output)
    if args.order is None and (args.date_from is None or args.date_to is None):
        print("error: give --order, or --from and --to", file=sys.stderr)
        sys.exit(2)
    if args.format == "pdf" and args.order is None:
        print("error: a PDF is of one order: give --order", file=sys.stderr)
        sys.exit(2)

    async def work() -> None:
        actor = await _actor(args, "export")
        scope = (await order_scope(actor, args.order) if args.order is not None
                 else await range_scope(actor, args.date_from, args.date_to, by=args.by))
        if args.format == "pdf":
            data = await order_pdf(actor, scope)
            out.write_bytes(data)
            from domain.lineage.export import record_export

            await record_export(actor, "lineage.exported", {**scope.params(), "format": "pdf"}, {"bytes": len(data)})
            print(f"wrote {out} ({len(data)} bytes)")
            return
        with out.open("wb") as sink, tqdm(unit="event", desc="lineage export", file=sys.stderr) as bar:
            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            manifest = await export_lineage(actor, scope, args.format, sink.write, progress=progress)
        side = out.with_name(out.name + ".manifest.json")
        side.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str))
        unsealed = f", {manifest['unsealed']} not sealed yet" if manifest.get("unsealed") else ""
        print(f"wrote {out}: {manifest['count']} events{unsealed}, sha256 {manifest['body_sha256']}; manifest {side}")

    _run(settings, work)


def cmd_pack(settings: Settings, args: argparse.Namespace) -> None:
    from domain.lineage.pack import build_pack

    async def work() -> None:
        actor = await _actor(args, "pack")
        data = await build_pack(actor, args.order)
        Path(args.output).write_bytes(data)
        print(f"wrote {args.output} ({len(data)} bytes)")

    _run(settings, work)


def _run(settings: Settings, work) -> None:  # type: ignore[no-untyped-def]
    try:
        asyncio.run(with_db(settings, work))
    except DomainError as refused:
        print(f"error: {refused.message}", file=sys.stderr)
        sys.exit(2)


def add_commands(lineage: argparse._SubParsersAction) -> None:
    """Add ``export`` and ``pack`` under the ``lineage`` group."""
    export = lineage.add_parser("export", help="a tenant's lineage for one order or a date range: jsonl, csv or pdf")
    export.add_argument("--tenant", required=True)
    export.add_argument("--order", help="an order number, e.g. OG000000042")
    export.add_argument("--from", dest="date_from", type=_day, help="first day (tenant's time zone), YYYY-MM-DD")
    export.add_argument("--to", dest="date_to", type=_day, help="last day, included")
    export.add_argument("--by", choices=["placed", "recorded"], default="placed",
                        help="placed: events of orders placed in the range; recorded: events recorded in it")
    export.add_argument("--format", choices=["jsonl", "csv", "pdf"], default="jsonl")
    export.add_argument("--as-admin", action="store_true", help="export as an admin (personal data in clear)")
    export.add_argument("-o", "--output", required=True)
    export.set_defaults(func=cmd_export)
    pack = lineage.add_parser("pack", help="one order's evidence pack (zip): PDF, lineage, payloads, exchanges, scans")
    pack.add_argument("--tenant", required=True)
    pack.add_argument("--order", required=True)
    pack.add_argument("--as-admin", action="store_true", help="build it as an admin (personal data in clear)")
    pack.add_argument("-o", "--output", required=True)
    pack.set_defaults(func=cmd_pack)
