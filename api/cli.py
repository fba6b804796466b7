"""The ``ordergraph`` command.

    ordergraph migrate                         apply migrations to DATABASE_URL
    ordergraph serve [--workers N]             run the API with uvicorn
    ordergraph demo                            migrate, seed demo data if empty, print a key, serve
    ordergraph seed [--tenant demo]            add the demo tenant and its data
    ordergraph tenants create SLUG NAME        add a tenant
    ordergraph keys create --tenant SLUG --role ROLE [--name N]
                                               print a new API key (last line of output)
    ordergraph keys list --tenant SLUG         prefixes, roles, live or revoked (never secrets)
    ordergraph keys revoke --tenant SLUG --prefix PREFIX
                                               revoke; its open subscriptions are closed (4403)
    ordergraph import FILE --tenant SLUG --channel CODE [--format csv|xlsx] [--encoding E] [--batch N]
                                               import orders from CSV/XLSX (re-run to resume)
    ordergraph check-tracking [--tenant SLUG] [--hours H]
                                               "shipped but not moving" alerts, parked tracking retries
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable

import uvicorn

from api import database
from api.settings import Settings
from domain.actor import Role
from domain.errors import DomainError


async def _with_db(settings: Settings, work: Callable[[], Awaitable[None]]) -> None:
    await database.init_db(settings.database_url)
    try:
        await work()
    finally:
        await database.close_db()


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    asyncio.run(database.migrate(settings.database_url))
    print("migrations applied")


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    # Workers read Settings from the environment: let them know where they listen (webhook URLs may not point here).
    if args.host:
        os.environ["HOST"] = args.host
    if args.port:
        os.environ["PORT"] = str(args.port)
    uvicorn.run(
        "api.main:app_from_env",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        log_level="info",
        ws="websockets-sansio",
        # Live frames are small JSON: compressing each one per connection costs more CPU than it saves bytes.
        ws_per_message_deflate=False,
    )


async def _create_key(tenant: str, role: str, name: str) -> str:
    from domain.tenants.accounts import create_api_key

    _, secret = await create_api_key(tenant, role, name)
    return secret


def cmd_keys_create(settings: Settings, args: argparse.Namespace) -> None:
    result: list[str] = []

    async def work() -> None:
        result.append(await _create_key(args.tenant, args.role, args.name))

    asyncio.run(_with_db(settings, work))
    print(f"API key for tenant {args.tenant}, role {args.role} (shown once, stored hashed):")
    print(result[0])


def cmd_keys_list(settings: Settings, args: argparse.Namespace) -> None:
    from models import ApiKey

    rows: list[tuple] = []

    async def work() -> None:
        rows.extend(await ApiKey.filter(tenant__slug=args.tenant).order_by("id").values_list(
            "prefix", "role", "name", "created_at", "revoked_at"))

    asyncio.run(_with_db(settings, work))
    for prefix, role, name, created, revoked in rows:
        state = f"revoked {revoked:%Y-%m-%d %H:%M}" if revoked else "live"
        print(f"{prefix}  {role:<9} {created:%Y-%m-%d %H:%M}  {state:<22} {name}")


def cmd_keys_revoke(settings: Settings, args: argparse.Namespace) -> None:
    from domain.tenants.accounts import revoke_api_key

    async def work() -> None:
        await revoke_api_key(args.tenant, args.prefix)

    asyncio.run(_with_db(settings, work))
    print(f"key {args.prefix} of tenant {args.tenant} revoked")


def cmd_tenants_create(settings: Settings, args: argparse.Namespace) -> None:
    from domain.tenants.accounts import create_tenant

    async def work() -> None:
        await create_tenant(args.slug, args.name)

    asyncio.run(_with_db(settings, work))
    print(f"tenant {args.slug} created")


async def _seed_if_empty(slug: str) -> bool:
    from api.seed import seed_demo
    from models import Tenant

    if await Tenant.exists(slug=slug):
        return False
    await seed_demo(slug)
    return True


def cmd_seed(settings: Settings, args: argparse.Namespace) -> None:
    async def work() -> None:
        created = await _seed_if_empty(args.tenant)
        print(f"demo tenant {args.tenant} " + ("seeded" if created else "already present; nothing changed"))

    asyncio.run(_with_db(settings, work))


def cmd_demo(settings: Settings, args: argparse.Namespace) -> None:
    secret: list[str] = []

    async def work() -> None:
        if await _seed_if_empty("demo"):
            print("seeded demo tenant 'demo' (4 channels, 3 warehouses, 50 SKUs, 200 orders)")
        secret.append(await _create_key("demo", Role.ADMIN.value, "make run"))

    asyncio.run(database.migrate(settings.database_url))
    asyncio.run(_with_db(settings, work))
    base = f"http://{settings.host}:{settings.port}"
    print(
        f"\nOrderGraph demo\n"
        f"  GraphQL (GraphiQL in the browser): {base}/graphql\n"
        f"  Health: {base}/healthz   Metrics: {base}/metrics\n"
        f"  Send the key as 'Authorization: Bearer <key>'. Demo admin API key:\n"
        f"  {secret[0]}\n",
        flush=True,
    )
    args.workers = 1
    args.host = None
    args.port = None
    cmd_serve(settings, args)


def cmd_import(settings: Settings, args: argparse.Namespace) -> None:
    from pathlib import Path

    from tqdm import tqdm

    from adapters.formats import FORMATS
    from domain.actor import Actor
    from domain.intake.bulk_import import import_file
    from models import Tenant

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no file {path}", file=sys.stderr)
        sys.exit(2)
    data = path.read_bytes()
    bar: list[tqdm] = []

    def started(run) -> None:  # noqa: ANN001 - an ImportRun
        bar.append(tqdm(total=run.total_rows, initial=run.rows_done, unit="row", desc=path.name, file=sys.stderr))

    async def work() -> None:
        tenant = await Tenant.filter(slug=args.tenant).first()
        if tenant is None:
            raise DomainError(f"no tenant {args.tenant}")
        actor = Actor(tenant_id=tenant.id, role=Role.ADMIN, name="cli:import", source="cli")
        run = await import_file(actor, args.channel, path.name, data, files=FORMATS.files, fmt=args.format, encoding=args.encoding,
                             batch_size=args.batch or settings.import_batch_size, on_started=started,
                             progress=lambda rows: bar[0].update(rows) if bar else None)
        if bar:
            bar[0].close()
        print(f"import #{run.id} {run.status}: {run.rows_done} of {run.total_rows} rows; "
              f"{run.orders_created} orders created, {run.orders_updated} updated, "
              f"{run.orders_unchanged} unchanged; {run.rows_failed} rows refused")
        from domain.intake.bulk_import import row_errors

        shown = await row_errors(run.id, first=args.show_errors)
        for error in shown:
            print(f"  row {error.row}: {error.field + ': ' if error.field else ''}{error.message}")
        if run.rows_failed > len(shown):
            print(f"  … see importRun(id) in GraphQL for all {run.rows_failed} refused rows")

    asyncio.run(_with_db(settings, work))


def cmd_check_tracking(settings: Settings, args: argparse.Namespace) -> None:
    from dataclasses import replace

    from api.intake_tasks import run_once
    from models import Tenant

    async def work() -> None:
        tenant_id = None
        if args.tenant:
            tenant_id = await Tenant.filter(slug=args.tenant).first().values_list("id", flat=True)
            if tenant_id is None:
                raise DomainError(f"no tenant {args.tenant}")
        hours = args.hours if args.hours is not None else settings.pickup_alert_hours
        print(await run_once(replace(settings, pickup_alert_hours=hours), tenant_id))

    asyncio.run(_with_db(settings, work))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ordergraph", description="OrderGraph order hub")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply migrations").set_defaults(func=cmd_migrate)
    serve = sub.add_parser("serve", help="run the API server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("demo", help="migrate, seed, print a key and serve").set_defaults(func=cmd_demo)
    seed = sub.add_parser("seed", help="add the demo tenant and its data")
    seed.add_argument("--tenant", default="demo")
    seed.set_defaults(func=cmd_seed)
    tenants = sub.add_parser("tenants").add_subparsers(dest="action", required=True)
    create_tenant = tenants.add_parser("create")
    create_tenant.add_argument("slug")
    create_tenant.add_argument("name")
    create_tenant.set_defaults(func=cmd_tenants_create)
    keys = sub.add_parser("keys").add_subparsers(dest="action", required=True)
    create_key = keys.add_parser("create")
    create_key.add_argument("--tenant", required=True)
    create_key.add_argument("--role", required=True, choices=[role.value for role in Role])
    create_key.add_argument("--name", default="")
    create_key.set_defaults(func=cmd_keys_create)
    list_keys = keys.add_parser("list", help="prefixes, roles and states of a tenant's keys (never the secrets)")
    list_keys.add_argument("--tenant", required=True)
    list_keys.set_defaults(func=cmd_keys_list)
    revoke_key = keys.add_parser("revoke", help="revoke a key; open subscriptions made with it are closed")
    revoke_key.add_argument("--tenant", required=True)
    revoke_key.add_argument("--prefix", required=True, help="the key's first 11 characters, as `keys list` shows")
    revoke_key.set_defaults(func=cmd_keys_revoke)
    importer = sub.add_parser("import", help="import orders from a CSV or XLSX file (re-run to resume)")
    importer.add_argument("file")
    importer.add_argument("--tenant", required=True)
    importer.add_argument("--channel", required=True, help="a channel with a generic field mapping")
    importer.add_argument("--format", choices=["csv", "xlsx"])
    importer.add_argument("--encoding", default="utf-8", help="CSV text encoding, e.g. gb18030 (default utf-8)")
    importer.add_argument("--batch", type=int, help="rows per transaction (ORDERGRAPH_IMPORT_BATCH, 1000)")
    importer.add_argument("--show-errors", type=int, default=20, help="refused rows to print (20)")
    importer.set_defaults(func=cmd_import)
    tracking = sub.add_parser("check-tracking", help='"shipped but not moving" alerts and parked tracking retries, once')
    tracking.add_argument("--tenant")
    tracking.add_argument("--hours", type=float, help="hours without pick-up (ORDERGRAPH_PICKUP_ALERT_HOURS, 24)")
    tracking.set_defaults(func=cmd_check_tracking)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.func(Settings.from_env(), args)
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
