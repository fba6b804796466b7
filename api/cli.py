"""The ``ordergraph`` command.

    ordergraph migrate                         apply migrations to DATABASE_URL
    ordergraph serve [--workers N]             run the API with uvicorn
    ordergraph demo                            migrate, seed demo data if empty, print a key, serve
    ordergraph seed [--tenant demo]            add the demo tenant and its data
    ordergraph schema                          print the GraphQL SDL (> schema.graphql)
    ordergraph tenants create SLUG NAME [--contact-url URL]
                                               add a tenant (URL: the tracking page's "contact the shop" link)
    ordergraph tenants brand SLUG [--name N --logo-url U --accent-color C --contact-url URL]
                                               change what customers see on the tracking page
    ordergraph keys create --tenant SLUG --role ROLE --owner "Li Wei <li.wei@acme.cn>" [--name N]
                                               print a new API key (last line of output); lineage names
                                               its actions "<owner> via <name> (<role> key)"
    ordergraph keys list --tenant SLUG         prefixes, roles, live or revoked (never secrets)
    ordergraph keys revoke --tenant SLUG --prefix PREFIX
                                               revoke; its open subscriptions are closed (4403)
    ordergraph import FILE --tenant SLUG --channel CODE [--format csv|xlsx] [--encoding E] [--batch N]
                                               import orders from CSV/XLSX (re-run to resume)
    ordergraph warehouses create CODE NAME --tenant SLUG [--province P --city C ... --handling-cost 2.50 --paused]
    ordergraph warehouses list --tenant SLUG   every warehouse, paused ones marked
    ordergraph catalog import FILE --tenant SLUG   upsert catalogue items from CSV/XLSX (re-run: unchanged)
    ordergraph stock import FILE --tenant SLUG     opening stock or receipts per row from CSV/XLSX
    ordergraph check-tracking [--tenant SLUG] [--hours H]
                                               "shipped but not moving" alerts, parked tracking retries, and a
                                               tracking round (subscribe, query silent parcels, stalled alerts)
    ordergraph sim decrypt [--port 9100] [--latency-ms N] [--error-rate R] [--expired]
                                               local Taobao/Pinduoduo/Douyin receiver-decryption APIs
    ordergraph sim erp [--port 9200] [--profile FILE]
                                               local Kingdee K3 Cloud WebAPI and REST ERP, with faults
    ordergraph sim wms [--port 9300] [--profile FILE] [--callback URL]
                                               a local Qimen WMS (ships, calls back), with injectable faults
    ordergraph poll CHANNEL --tenant SLUG [--since T] [--until T] [--check]
                                               back-fill a channel from its platform API, or run its daily check
    ordergraph sim channel --kind taobao|pinduoduo|douyin|wechat_channels|amazon|shopify [--port 9400] [--orders N]
                                               a local sales platform (its order API and pushes), with faults
    ordergraph sim carrier [--port 9500]       local Kuaidi100, Kdniao and AfterShip subscribe/query APIs
    ordergraph reconcile --tenant SLUG --date YYYY-MM-DD [--threshold 0.005] [--format csv|xlsx -o FILE]
                                               compare a day's orders across channel, gateway, ERP and WMS
    ordergraph sim notify [--port 9600] [--wecom-key K] [--dingtalk TOKEN[:SECRET]]
                                               local WeCom and DingTalk group robots (signatures checked)
    ordergraph console-users create --tenant SLUG --email E --name N --role ROLE
                                               a person for the /console pages (password from stdin or asked)
    ordergraph queries register FILE.graphql [--tenant SLUG] | --console
                                               store persisted queries (global without --tenant), print their ids
    ordergraph queries disable HASH [--tenant SLUG]
    ordergraph simulate [--orders N --hours H --speed X --profile chaos|small|FILE --seed S]
                        [--database-url postgres://… --redis none|private|URL --workers N --report FILE]
                                               a compressed business day with faults, judged against the truth
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from decimal import Decimal, InvalidOperation

import uvicorn

from api import cli_polling, cli_reconcile, cli_simulate, database
from api.database import with_db as _with_db
from api.settings import Settings
from domain.actor import Actor, Role
from domain.errors import DomainError, NotFound


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    asyncio.run(database.migrate(settings.database_url))
    print("migrations applied")
    _rekey_phones(settings)


def _rekey_phones(settings: Settings) -> None:
    """Stored keys follow the server's secrets (after an upgrade, or a rotation of ORDERGRAPH_PHONE_HASH_KEY
    or ORDERGRAPH_DATA_KEYS): phone look-up keys are recomputed, stored secrets sealed with the first data key."""
    from domain.contacts.phone_keys import rekey_phone_hashes
    from domain.payments.backfill import backfill_references
    from domain.tenants.secrets import reseal_all

    changed: list[int] = []

    async def work() -> None:
        changed.append(await rekey_phone_hashes())
        changed.append(await reseal_all())
        changed.append(await backfill_references())

    asyncio.run(_with_db(settings, work))
    if changed[0]:
        print(f"phone look-up keys recomputed for {changed[0]} customers")
    print(f"{changed[1]} rows of stored secrets sealed with the first data key")
    if changed[2]:
        print(f"normalised references filled in for {changed[2]} payments and notices")


def cmd_secrets_reseal(settings: Settings, args: argparse.Namespace) -> None:
    _rekey_phones(settings)


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


async def _create_key(tenant: str, role: str, name: str, owner: str) -> str:
    from domain.tenants.accounts import create_api_key

    _, secret = await create_api_key(tenant, role, name, owner=owner)
    return secret


def cmd_keys_create(settings: Settings, args: argparse.Namespace) -> None:
    result: list[str] = []

    async def work() -> None:
        result.append(await _create_key(args.tenant, args.role, args.name, args.owner))

    asyncio.run(_with_db(settings, work))
    print(f"API key for tenant {args.tenant}, role {args.role} (shown once, stored hashed):")
    print(result[0])


def cmd_keys_list(settings: Settings, args: argparse.Namespace) -> None:
    from models import ApiKey

    rows: list[tuple] = []

    async def work() -> None:
        rows.extend(await ApiKey.filter(tenant__slug=args.tenant).order_by("id").values_list(
            "prefix", "role", "name", "owner", "created_at", "revoked_at"))

    asyncio.run(_with_db(settings, work))
    for prefix, role, name, owner, created, revoked in rows:
        state = f"revoked {revoked:%Y-%m-%d %H:%M}" if revoked else "live"
        print(f"{prefix}  {role:<9} {created:%Y-%m-%d %H:%M}  {state:<22} {name}"
              + (f"  (owner: {owner})" if owner else "  (no owner recorded)"))


def cmd_keys_revoke(settings: Settings, args: argparse.Namespace) -> None:
    from domain.tenants.accounts import revoke_api_key

    async def work() -> None:
        await revoke_api_key(args.tenant, args.prefix)

    asyncio.run(_with_db(settings, work))
    print(f"key {args.prefix} of tenant {args.tenant} revoked")


def cmd_tenants_create(settings: Settings, args: argparse.Namespace) -> None:
    from domain.tenants.accounts import create_tenant
    from domain.tenants.branding import set_branding
    from domain.unit_of_work import unit_of_work

    async def work() -> None:
        async with unit_of_work():  # a refused contact URL leaves no tenant behind
            tenant = await create_tenant(args.slug, args.name)
            if args.contact_url:
                await set_branding(tenant.id, contact_url=args.contact_url)

    asyncio.run(_with_db(settings, work))
    print(f"tenant {args.slug} created")


def cmd_tenants_brand(settings: Settings, args: argparse.Namespace) -> None:
    from domain.tenants.branding import set_branding
    from models import Tenant

    async def work() -> None:
        tenant = await Tenant.filter(slug=args.slug).first()
        if tenant is None:
            raise NotFound(f"no tenant {args.slug}", field="tenant")
        await set_branding(tenant.id, name=args.name, logo_url=args.logo_url, accent_color=args.accent_color,
                           contact_url=args.contact_url)

    asyncio.run(_with_db(settings, work))
    print(f"tenant {args.slug} updated")


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
    from api.landing import banner_lines, demo_lookup
    from api.seed import ensure_demo_operator

    secret: list[str] = []
    lookup: list[tuple[str, str] | None] = []
    operator: list[tuple[str, str]] = []

    async def work() -> None:
        if await _seed_if_empty("demo"):
            print("seeded demo tenant 'demo' (4 channels, 3 warehouses, 50 SKUs, 200 orders)")
        secret.append(await _create_key("demo", Role.ADMIN.value, "make run", "demo-seed"))
        lookup.append(await demo_lookup(settings.tracking_tenant))
        operator.append(await ensure_demo_operator("demo"))

    asyncio.run(database.migrate(settings.database_url))
    _rekey_phones(settings)
    asyncio.run(_with_db(settings, work))
    base = f"http://{settings.host}:{settings.port}"
    systems_banner = _start_demo_systems(settings)
    print(
        f"\nOrderGraph demo\n"
        f"{banner_lines(base, lookup[0], operator[0])}"  # the same addresses the landing page (GET /) links
        f"{systems_banner}"
        f"  Send the key as 'Authorization: Bearer <key>'. Demo admin API key:\n"
        f"  {secret[0]}\n",
        flush=True,
    )
    # The seeded orders were never invoiced in the simulated ERP, so a daily reconciliation would only report
    # every one of them: in the demo it runs when asked (`ordergraph reconcile`, `runReconciliation`).
    os.environ.setdefault("ORDERGRAPH_RECONCILE_HOUR", "-1")
    args.workers = 1
    args.host = None
    args.port = None
    cmd_serve(settings, args)


def _start_demo_systems(settings: Settings) -> str:
    """A simulated Qimen WMS (running warehouse SH), Kingdee ERP, Taobao shop and DingTalk group; the banner lines.

    ``ORDERGRAPH_DEMO_SIMULATORS=0`` leaves them out.
    """
    if os.environ.get("ORDERGRAPH_DEMO_SIMULATORS", "1") == "0":
        return ""
    import atexit

    from api.demo_systems import connect_demo, start_simulators

    try:
        systems = start_simulators(settings.port)
    except RuntimeError as error:
        return f"  (ERP/WMS/shop simulators not started: {error})\n"
    atexit.register(systems.stop)
    asyncio.run(_with_db(settings, lambda: connect_demo("demo", systems)))
    return (f"  Simulated WMS (Qimen) running warehouse SH: {systems.wms_url}   ERP (Kingdee): {systems.erp_url}\n"
            f"    orders allocated to SH are pushed to the WMS; ship one and watch OrderGraph hear it:\n"
            f"    curl -X POST {systems.wms_url}/_sim/ship -d '{{\"code\": \"OG000000123-SH\", \"carrier\": \"SF\"}}'\n"
            f"    then ask: {{ order(id: …) {{ wms {{ status }} erp {{ status }} diagnosis {{ verdict }} }} }}\n"
            f"  Simulated Taobao shop (channel tmall-flagship): {systems.shop_url}\n"
            f"    place paid orders; their TMC messages reach OrderGraph (1 in 5 dropped: the poller finds those):\n"
            f"    curl -X POST {systems.shop_url}/_sim/orders -d '{{\"count\": 5}}'\n"
            f"    then ask: {{ channels {{ code pulling {{ watermark lagSeconds ordersCreated }} }} }}\n"
            f"  Simulated DingTalk group (alerts, warning and up; rules urgent_tier and held_too_long are on):\n"
            f"    what the group read: curl {systems.robots_url}/_sim/messages   rules: {{ rules {{ name enabled }} }}\n")


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


async def _cli_actor(tenant: str, what: str) -> Actor:
    """An admin acting from this shell; lineage names the command and the operating-system user who ran it."""
    from models import Tenant

    found = await Tenant.filter(slug=tenant).first()
    if found is None:
        raise NotFound(f"no tenant {tenant}", field="tenant")
    return Actor(tenant_id=found.id, role=Role.ADMIN, name=f"cli:{what}:{getpass.getuser()}"[:100], source="cli")


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal number such as 2.50") from None


def cmd_warehouses_create(settings: Settings, args: argparse.Namespace) -> None:
    from domain.catalog import warehouses

    values = {"name": args.name, "province": args.province, "city": args.city, "district": args.district,
              "address": args.street, "postal_code": args.postal_code, "country_code": args.country, "region": args.region,
              "latitude": args.lat, "longitude": args.lng, "handling_cost": args.handling_cost, "priority": args.priority,
              "active": not args.paused}

    async def work() -> None:
        actor = await _cli_actor(args.tenant, "warehouses")
        warehouse = await warehouses.create_warehouse(actor, args.code, values, reason=args.reason or "")
        state = "paused" if not warehouse.active else "active"
        print(f"warehouse {warehouse.code} ({warehouse.name}) created for tenant {args.tenant}, {state}")

    asyncio.run(_with_db(settings, work))


def cmd_warehouses_list(settings: Settings, args: argparse.Namespace) -> None:
    from domain.catalog import warehouses

    async def work() -> None:
        actor = await _cli_actor(args.tenant, "warehouses")
        rows = await warehouses.listing(actor.tenant_id)
        if not rows:
            print(f"tenant {args.tenant} has no warehouses yet: ordergraph warehouses create CODE NAME --tenant {args.tenant}")
        for w in rows:
            place = "/".join(part for part in (w.country_code, w.province, w.city, w.district) if part)
            point = f"{w.latitude:.4f},{w.longitude:.4f}" if w.latitude is not None and w.longitude is not None else "-"
            cost = str(w.handling_cost) if w.handling_cost is not None else "-"
            print(f"{w.code:<10} {'active' if w.active else 'PAUSED':<7} prio {w.priority:<6} region {w.region or '-':<8} "
                  f"cost {cost:<8} {point:<20} {place}  {w.name}")

    asyncio.run(_with_db(settings, work))


def _sheet_rows(path_text: str, fmt: str | None, encoding: str) -> tuple[str, bytes, str, int, list]:
    """Read a CSV/XLSX set-up file into numbered rows (exit 2 when the file as a whole cannot be read)."""
    from pathlib import Path

    from adapters import files

    path = Path(path_text)
    if not path.is_file():
        print(f"error: no file {path}", file=sys.stderr)
        sys.exit(2)
    data = path.read_bytes()
    try:
        kind = files.detect_format(path.name, data, fmt)
        rows = [_sheet_row(number, row) for number, row in files.read_rows(data, kind, encoding=encoding)]
    except files.FileError as error:
        print(f"error: {path.name}: {error}", file=sys.stderr)
        sys.exit(2)
    return path.name, data, kind, len(rows), rows


def _sheet_row(number: int, row: object) -> object:
    from adapters import files
    from domain.catalog.sheets import SheetRow

    if isinstance(row, files.CellError):  # "$" is the reader's name for the row as a whole
        return SheetRow(number, field="" if row.column == "$" else row.column, error=str(row).removeprefix(f"{row.column}: "))
    return SheetRow(number, row)  # type: ignore[arg-type]


def _sheet_import(settings: Settings, args: argparse.Namespace, what: str) -> None:
    """``catalog import`` and ``stock import``: a progress bar, batches, then every refused row by number."""
    from tqdm import tqdm

    from domain.catalog import item_sheet, stock_sheet
    from domain.inbound import payloads

    name, data, kind, total, rows = _sheet_rows(args.file, args.format, args.encoding)
    outcome: list = []

    async def work() -> None:
        actor = await _cli_actor(args.tenant, f"{what}-import")
        _, sha = await payloads.store(actor.tenant_id, "import", what, data, {"file-name": name[:255], "format": kind}, kind)
        with tqdm(total=total, unit="row", desc=name, file=sys.stderr) as bar:
            if what == "catalog":
                report = await item_sheet.import_items(actor, rows, payload_ref=payloads.ref(sha), file_name=name,
                                                       batch_size=args.batch, progress=bar.update)
            else:
                report = await stock_sheet.import_stock(actor, rows, payload_ref=payloads.ref(sha),
                                                        batch_size=args.batch, progress=bar.update)
        outcome.append(report)

    asyncio.run(_with_db(settings, work))
    report = outcome[0]
    changes = (f"{report.created} created, {report.updated} updated" if what == "catalog" else f"{report.created} booked")
    print(f"{what} import {name}: {report.rows} rows: {changes}, {report.unchanged} unchanged, {len(report.refused)} refused")
    for refusal in report.refused:
        print(f"  row {refusal.row}: {refusal.field + ': ' if refusal.field else ''}{refusal.message}")
    if report.refused:
        sys.exit(1)


def cmd_catalog_import(settings: Settings, args: argparse.Namespace) -> None:
    _sheet_import(settings, args, "catalog")


def cmd_stock_import(settings: Settings, args: argparse.Namespace) -> None:
    _sheet_import(settings, args, "stock")


def cmd_check_tracking(settings: Settings, args: argparse.Namespace) -> None:
    from dataclasses import replace

    from adapters.carriers.api import PROVIDER_APIS
    from api.intake_tasks import run_once
    from api.tracking_tasks import round_settings
    from domain.tracking.subscriptions import tracking_round
    from models import Tenant

    async def work() -> None:
        tenant_id = None
        if args.tenant:
            tenant_id = await Tenant.filter(slug=args.tenant).first().values_list("id", flat=True)
            if tenant_id is None:
                raise DomainError(f"no tenant {args.tenant}")
        hours = args.hours if args.hours is not None else settings.pickup_alert_hours
        print(await run_once(replace(settings, pickup_alert_hours=hours), tenant_id))
        report = await tracking_round(PROVIDER_APIS, settings=round_settings(settings), tenant_id=tenant_id)
        print(report.as_dict())

    asyncio.run(_with_db(settings, work))


def cmd_sim_decrypt(settings: Settings, args: argparse.Namespace) -> None:
    """Serve the three platforms' decryption APIs locally; print the channel config that points at them."""
    import json

    from adapters.channels.decryption.simulator import PLATFORMS, DecryptSimulator, Profile, account_config, run

    try:
        profile = Profile.read({"latency_ms": args.latency_ms, "error_rate": args.error_rate, "expired": args.expired})
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    base = f"http://{args.host}:{args.port}"
    print(f"receiver-decryption simulator on {base} (seal test ciphertext: POST {base}/_sim/seal)")
    for platform in PLATFORMS:
        print(f"  {platform} channel config: {json.dumps({'api': account_config(platform, base)})}")
    run(args.host, args.port, DecryptSimulator(profile=profile))


def cmd_sim_erp(settings: Settings, args: argparse.Namespace) -> None:
    """Serve a simulated ERP (Kingdee WebAPI and a REST mode); print the connection configs that point at it."""
    import json

    from adapters.erp.sim_faults import Profile
    from adapters.erp.simulator import ErpSimulator, kingdee_config, rest_config, run

    profile = Profile()
    if args.profile:
        try:
            with open(args.profile, encoding="utf-8") as file:
                profile = Profile.read(json.load(file))
        except (OSError, ValueError) as error:
            print(f"error: --profile {args.profile}: {error}", file=sys.stderr)
            sys.exit(2)
    base = f"http://{args.host}:{args.port}"
    print(f"ERP simulator on {base} (set ERP truth: {base}/_sim/orders, {base}/_sim/stock; faults: {base}/_sim/profile)")
    print(f"  kingdee connection config: {json.dumps(kingdee_config(base), ensure_ascii=False)}")
    print(f"  rest_erp connection config: {json.dumps(rest_config(base), ensure_ascii=False)}")
    run(args.host, args.port, ErpSimulator(profile=profile))


def cmd_sim_wms(settings: Settings, args: argparse.Namespace) -> None:
    """Serve a simulated Qimen WMS; print the connection config to register and how to make it ship."""
    import json

    from adapters.wms.simulator import Profile, WmsSimulator, account_config, load_profile, run

    try:
        profile = load_profile(args.profile) if args.profile else Profile()
    except ValueError as error:
        print(f"error: --profile: {error}", file=sys.stderr)
        sys.exit(2)
    base = f"http://{args.host}:{args.port}"
    print(f"Qimen WMS simulator on {base} (router {base}/router/qimen/service; faults: {base}/_sim/profile)")
    print(f"  qimen connection config: {json.dumps(account_config(base), ensure_ascii=False)}")
    from adapters.wms.simulator import rest_config
    print(f"  rest_wms connection config: {json.dumps(rest_config(base), ensure_ascii=False)}")
    print(f"  callbacks go to {args.callback or f'nowhere yet: PUT {base}/_sim/callback'}"
          f' {{"url": "http://127.0.0.1:8000/hooks/<tenant>/wms/<warehouse code>"}}')
    print(f"  ship a delivery order: POST {base}/_sim/ship {{\"code\": \"OG000000042-SH\", \"carrier\": \"SF\"}}")
    run(args.host, args.port, WmsSimulator(profile=profile, callback_url=args.callback))


def cmd_sim_notify(settings: Settings, args: argparse.Namespace) -> None:
    """Serve the WeCom and DingTalk robot simulator; print route configs that point at it."""
    import json

    from adapters.notify.simulator import DingTalkBot, RobotSimulator, run

    bots = {token: DingTalkBot(secret=secret) for token, _, secret in (spec.partition(":") for spec in args.dingtalk)}
    sim = RobotSimulator(wecom_keys=set(args.wecom_key), dingtalk=bots)
    base = f"http://{args.host}:{args.port}"
    print(f"group robot simulator on {base} (messages: {base}/_sim/messages; faults: POST {base}/_sim/faults)")
    for key in args.wecom_key:
        print(f"  wecom route config: {json.dumps({'key': key, 'base_url': base})}")
    for token, bot in bots.items():
        print(f"  dingtalk route config: {json.dumps({'access_token': token, 'secret': bot.secret, 'base_url': base})}")
    run(args.host, args.port, sim)


def cmd_schema(settings: Settings, args: argparse.Namespace) -> None:
    """Print the GraphQL SDL (what ``schema.graphql`` holds).

    ``schema.sdl`` is imported by name, as ``serve`` names its app: the CLI's own imports stay off the GraphQL layer.
    """
    from importlib import import_module

    sys.stdout.write(import_module("schema.sdl").sdl())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ordergraph", description="OrderGraph order hub: serve the GraphQL API and run its chores.",
        epilog="`ordergraph COMMAND --help` describes a command and its options; `make run` is `ordergraph demo`.")
    sub = parser.add_subparsers(dest="command", required=True, title="commands")
    sub.add_parser("migrate", help="apply migrations, then recompute phone keys and reseal stored secrets "
                   "under the current server keys").set_defaults(func=cmd_migrate)
    secrets_cmd = sub.add_parser("secrets", help="stored secrets at rest: reseal them under the current data key"
                                 ).add_subparsers(dest="action", required=True)
    secrets_cmd.add_parser("reseal", help="seal every stored secret with the first key of ORDERGRAPH_DATA_KEYS "
                           "(after adding a new key in front); then the old key may be removed"
                           ).set_defaults(func=cmd_secrets_reseal)
    serve = sub.add_parser("serve", help="run the API server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("demo", help="migrate, seed, print a key and serve").set_defaults(func=cmd_demo)
    sub.add_parser("schema", help="print the GraphQL schema as SDL (ordergraph schema > schema.graphql)"
                   ).set_defaults(func=cmd_schema)
    seed = sub.add_parser("seed", help="add the demo tenant and its data")
    seed.add_argument("--tenant", default="demo")
    seed.set_defaults(func=cmd_seed)
    tenants = sub.add_parser("tenants", help="add merchants and brand their tracking page"
                             ).add_subparsers(dest="action", required=True)
    create_tenant = tenants.add_parser("create", help="add a tenant (a merchant) with its slug and name")
    create_tenant.add_argument("slug")
    create_tenant.add_argument("name")
    create_tenant.add_argument("--contact-url", help="where customers contact the shop (https://, mailto: or tel:)")
    create_tenant.set_defaults(func=cmd_tenants_create)
    brand = tenants.add_parser("brand", help="change what customers see on the tracking page ('' clears a URL)")
    brand.add_argument("slug")
    brand.add_argument("--name")
    brand.add_argument("--logo-url")
    brand.add_argument("--accent-color")
    brand.add_argument("--contact-url", help="the tracking page's 'contact the shop' link (https://, mailto: or tel:)")
    brand.set_defaults(func=cmd_tenants_brand)
    keys = sub.add_parser("keys", help="mint, list and revoke API keys").add_subparsers(dest="action", required=True)
    create_key = keys.add_parser("create", help="print a new API key for a tenant and role (shown once)")
    create_key.add_argument("--tenant", required=True)
    create_key.add_argument("--role", required=True, choices=[role.value for role in Role])
    create_key.add_argument("--name", default="", help="the key's label, e.g. ops-console")
    create_key.add_argument("--owner", required=True,
                            help='the person or system behind the key, e.g. "Li Wei <li.wei@acme.cn>" (at most '
                                 '120 characters, an email in Name <email> form)')
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
    _setup_commands(sub)
    tracking = sub.add_parser("check-tracking", help='"shipped but not moving" alerts and parked tracking retries, once')
    tracking.add_argument("--tenant")
    tracking.add_argument("--hours", type=float, help="hours without pick-up (ORDERGRAPH_PICKUP_ALERT_HOURS, 24)")
    tracking.set_defaults(func=cmd_check_tracking)
    sims = sub.add_parser("sim", help="local simulators of outside systems (platforms, ERP, WMS, carriers, robots)"
                          ).add_subparsers(dest="system", required=True)
    decrypt = sims.add_parser("decrypt", help="Taobao, Pinduoduo and Douyin receiver-decryption APIs")
    decrypt.add_argument("--host", default="127.0.0.1")
    decrypt.add_argument("--port", type=int, default=9100)
    decrypt.add_argument("--latency-ms", type=int, default=0, help="delay before every answer")
    decrypt.add_argument("--error-rate", type=float, default=0.0, help="share of calls answered with a transient error")
    decrypt.add_argument("--expired", action="store_true", help="refuse every session as expired")
    decrypt.set_defaults(func=cmd_sim_decrypt)
    erp = sims.add_parser("erp", help="Kingdee K3 Cloud WebAPI and a REST ERP, with injectable faults")
    erp.add_argument("--host", default="127.0.0.1")
    erp.add_argument("--port", type=int, default=9200)
    erp.add_argument("--profile", help="JSON fault profile: latency_ms, error_rate, stale_s, session_ttl_s, "
                                       "outages, down, stock_drift")
    erp.set_defaults(func=cmd_sim_erp)
    wms = sims.add_parser("wms", help="a Qimen WMS: delivery orders, stock, confirmations and stock-change callbacks")
    wms.add_argument("--host", default="127.0.0.1")
    wms.add_argument("--port", type=int, default=9300)
    wms.add_argument("--profile", help="JSON fault profile: latency_ms, error_rate, lost_answer_rate, stale_seconds, "
                                       "drop_callback_rate, outages, stock_drift")
    wms.add_argument("--callback", help="where callbacks go: http://HOST/hooks/<tenant>/wms/<warehouse code>")
    wms.set_defaults(func=cmd_sim_wms)
    notify = sims.add_parser("notify", help="WeCom and DingTalk group robots (notifications), with injectable faults")
    notify.add_argument("--host", default="127.0.0.1")
    notify.add_argument("--port", type=int, default=9600)
    notify.add_argument("--wecom-key", action="append", default=[], help="a robot key it accepts (repeatable)")
    notify.add_argument("--dingtalk", action="append", default=[], help="TOKEN or TOKEN:SECRET of a robot (repeatable)")
    notify.set_defaults(func=cmd_sim_notify)
    cli_polling.add_commands(sub, sims)
    cli_reconcile.add_commands(sub)
    cli_simulate.add_command(sub)
    from api import cli_lineage

    cli_lineage.register(sub)
    from api import cli_console

    cli_console.register(sub)
    from api import cli_queries

    cli_queries.register(sub)
    _describe(parser)
    return parser


def _describe(parser: argparse.ArgumentParser) -> None:
    """Every command's own ``--help`` opens with the one line ``ordergraph --help`` lists for it; groups say COMMAND."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            action.metavar = "COMMAND"
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                child.description = child.description or helps.get(name)
                _describe(child)


def _setup_commands(sub: argparse._SubParsersAction) -> None:
    """``warehouses``, ``catalog`` and ``stock``: what a new merchant needs before the first order can ship."""
    warehouses = sub.add_parser("warehouses", help="create and list warehouses").add_subparsers(dest="action", required=True)
    create = warehouses.add_parser("create", help="add a warehouse (paused ones keep stock but are not allocated to)")
    create.add_argument("code", help="letters, digits, _ . - (allocation policies name it), e.g. SH")
    create.add_argument("name", help="what people call it, e.g. 上海青浦仓")
    create.add_argument("--tenant", required=True)
    create.add_argument("--province", default="")
    create.add_argument("--city", default="")
    create.add_argument("--district", default="")
    create.add_argument("--street", default="", help="street address")
    create.add_argument("--postal-code", default="")
    create.add_argument("--country", default="CN", help="ISO 3166-1 alpha-2 (CN)")
    create.add_argument("--region", default="", help="a group name for policies and reports, e.g. east")
    create.add_argument("--lat", type=float, help="latitude, -90 to 90 (give --lng too)")
    create.add_argument("--lng", type=float, help="longitude, -180 to 180")
    create.add_argument("--handling-cost", type=_decimal, help="per order, e.g. 2.50 (the lowest-cost strategy uses it)")
    create.add_argument("--priority", type=int, default=100, help="lower ships first under the priority strategy (100)")
    create.add_argument("--paused", action="store_true", help="create it paused")
    create.add_argument("--reason", help="why, for the lineage")
    create.set_defaults(func=cmd_warehouses_create)
    listing = warehouses.add_parser("list", help="every warehouse of a tenant, paused ones marked")
    listing.add_argument("--tenant", required=True)
    listing.set_defaults(func=cmd_warehouses_list)
    sheets = (
        ("catalog", "catalogue items from CSV/XLSX: sku, title, category, barcode, weight_grams, safety_stock, active",
         "upsert catalogue items; re-running the same file changes nothing", cmd_catalog_import),
        ("stock", "stock from CSV/XLSX: warehouse, sku, quantity, kind (opening|receipt), reference",
         "book opening stock (or receipts with a reference) per row; re-running the same file books nothing twice",
         cmd_stock_import),
    )
    for command, about, help_text, func in sheets:
        group = sub.add_parser(command, help=about).add_subparsers(dest="action", required=True)
        importer = group.add_parser("import", help=help_text,
                                    description=help_text + ". Refused rows are listed by row number (header = row 1) "
                                                            "with column and reason; the exit status is then 1.")
        importer.add_argument("file", help="a .csv or .xlsx file")
        importer.add_argument("--tenant", required=True)
        importer.add_argument("--format", choices=["csv", "xlsx"], help="default: from the file name or content")
        importer.add_argument("--encoding", default="utf-8", help="CSV text encoding, e.g. gb18030 (default utf-8)")
        importer.add_argument("--batch", type=int, default=500, help="rows per transaction (500)")
        importer.set_defaults(func=func)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    settings.apply_secrets()
    try:
        args.func(settings, args)
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
