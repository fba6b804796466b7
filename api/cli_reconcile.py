"""``ordergraph reconcile``: one day of a tenant reconciled from the shell, with a progress bar, optionally exported.

    ordergraph reconcile --tenant acme --date 2026-11-30 [--threshold 0.005] [--format csv|xlsx -o FILE]

Prints the run's summary and its first differing orders; ``-o`` writes the
export (the format from ``--format``, else from the file's extension). Exit
status 0 when the run finished, 1 when it is partial (a system could not be
asked: the reason is printed), 2 when it was refused.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import date
from pathlib import Path

from api.database import with_db
from api.settings import Settings
from domain.actor import Actor, Role
from domain.errors import NotFound


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2026-11-30") from None


def cmd_reconcile(settings: Settings, args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from adapters.systems import SYSTEMS
    from domain.reconciliation import export
    from domain.reconciliation.run import PARTIAL, check_threshold, reconcile_day
    from models import Tenant

    out = Path(args.output) if args.output else None
    fmt = args.format or (out.suffix.lstrip(".").lower() if out else None)
    if out is not None and fmt not in export.FORMATS:
        print("error: say --format csv or xlsx (or name the file .csv / .xlsx)", file=sys.stderr)
        sys.exit(2)
    threshold = check_threshold(args.threshold)
    finished: list[int] = []

    async def work() -> None:
        tenant = await Tenant.filter(slug=args.tenant).first()
        if tenant is None:
            raise NotFound(f"no tenant {args.tenant}", field="tenant")
        actor = Actor(tenant_id=tenant.id, role=Role.ADMIN, name=f"cli:reconcile:{getpass.getuser()}"[:100],
                      source="cli")
        with tqdm(unit="order", desc=f"reconcile {args.date}", file=sys.stderr) as bar:
            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            run = await reconcile_day(actor, args.date, systems=SYSTEMS, threshold=threshold, progress=progress)
        totals = run.totals or {}
        print(f"reconciliation #{run.id} of {run.day} {run.status}: {run.orders_checked} orders checked, "
              f"{run.orders_differing} differ (quantity {totals.get('differences', {}).get('quantity', 0)}, "
              f"amount {totals.get('differences', {}).get('amount', 0)}) beyond {run.threshold}")
        if run.error:
            print(f"  partial: {run.error}")
        for item in totals.get("first_differing", []):
            shown = ", ".join(f"{key} {value}" for key, value in item.items() if key not in ("order", "order_id"))
            print(f"  {item['order']}: {shown}")
        if out is not None:
            name, _, data = await export.export(actor, run.id, fmt or "csv")
            out.write_bytes(data)
            print(f"wrote {out} ({len(data)} bytes, {name})")
        finished.append(1 if run.status == PARTIAL else 0)

    asyncio.run(with_db(settings, work))
    sys.exit(finished[0] if finished else 2)


def add_commands(sub: argparse._SubParsersAction) -> None:
    reconcile = sub.add_parser("reconcile", help="compare one day's orders across channel, gateway, ERP and WMS")
    reconcile.add_argument("--tenant", required=True)
    reconcile.add_argument("--date", required=True, type=_day, help="the day, in the tenant's time zone (YYYY-MM-DD)")
    reconcile.add_argument("--threshold", default="0.005", help="report differences above this share (0.005 = 0.5 %%)")
    reconcile.add_argument("--format", choices=["csv", "xlsx"], help="export format (default: from -o's extension)")
    reconcile.add_argument("-o", "--output", help="write the run's totals and differences to this file")
    reconcile.set_defaults(func=cmd_reconcile)
