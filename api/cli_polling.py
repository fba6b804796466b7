"""The second path by hand: ``ordergraph poll`` (a back-fill, the daily check), ``ordergraph sim channel|carrier``.

    ordergraph poll tmall --tenant acme --since 2026-11-01 [--until 2026-11-02T12:00+08:00]
    ordergraph poll tmall --tenant acme --check        # the daily count-and-checksum check, now
    ordergraph sim channel --kind taobao --port 9400 --orders 200 [--push URL --secret S] [--faults JSON]
    ordergraph sim carrier --port 9500                 # Kuaidi100, Kdniao and AfterShip subscribe/query APIs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta

from api.settings import Settings
from domain.errors import DomainError


def _moment(text: str) -> datetime:
    """ISO-8601 (a date, or a time with or without offset: UTC assumed), or ``-6h`` / ``-3d`` from now."""
    text = text.strip()
    if text.startswith("-") and text[-1:] in ("h", "d", "m") and text[1:-1].isdigit():
        amount = int(text[1:-1])
        unit = {"h": timedelta(hours=amount), "d": timedelta(days=amount), "m": timedelta(minutes=amount)}[text[-1]]
        return datetime.now(UTC) - unit
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: an ISO-8601 date or time, or -6h / -3d") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_poll(settings: Settings, args: argparse.Namespace) -> None:
    """Read one channel's orders from its platform API, with a progress bar; or run its daily check."""
    from tqdm import tqdm

    from adapters.formats import FORMATS
    from api.database import with_db
    from domain.inbound.channel_api import ApiRefused
    from domain.polling.daily_check import check_channel
    from domain.polling.poll import poll_channel
    from models import Channel, Tenant

    async def work() -> None:
        tenant = await Tenant.filter(slug=args.tenant).first()
        if tenant is None:
            raise DomainError(f"no tenant {args.tenant}")
        channel = await Channel.filter(tenant_id=tenant.id, code=args.channel).first()
        if channel is None:
            raise DomainError(f"tenant {args.tenant} has no channel {args.channel}")
        account = (channel.config or {}).get("api")
        if not account:
            raise DomainError(f"channel {args.channel} has no platform API account (updateChannel apiAccount)")
        try:
            api = FORMATS.apis.for_channel(channel.kind, dict(account)) if FORMATS.apis else None
        except ApiRefused as refused:
            raise DomainError(f"channel {args.channel}: {refused.message}") from None
        if api is None:
            raise DomainError(f"channel kind {channel.kind!r} has no pull API")
        if args.check:
            report = await check_channel(channel, api, formats=FORMATS)
            print(json.dumps(report.as_json(), ensure_ascii=False, indent=1))
            sys.exit(0 if report.matches or (report.missing and not report.error) else 1)
        now = datetime.now(UTC)
        until = args.until or now
        since = args.since or until - timedelta(days=1)
        if since >= until:
            raise DomainError("--since must be before --until")
        with tqdm(total=int((until - since).total_seconds()), unit="s", desc=f"poll {args.channel}",
                  file=sys.stderr, bar_format="{l_bar}{bar}| {postfix}") as bar:
            def progress(window, report) -> None:  # noqa: ANN001
                bar.update(int((window.end - window.start).total_seconds()))
                bar.set_postfix(orders=report.read, created=report.created, throttled=report.throttled)

            report = await poll_channel(channel, api, formats=FORMATS, now=now, since=since, until=until,
                                        progress=progress)
        print(json.dumps({"channel": report.channel, "windows": report.windows, "listed": report.listed,
                          "fetched": report.fetched, "created": report.created, "updated": report.updated,
                          "unchanged": report.unchanged + report.skipped, "quarantined": report.quarantined,
                          "throttled": report.throttled, "error": report.error,
                          "watermark": report.watermark.isoformat() if report.watermark else None}))
        if report.error:
            sys.exit(1)

    asyncio.run(with_db(settings, work))


def cmd_sim_channel(settings: Settings, args: argparse.Namespace) -> None:
    """Serve a simulated platform (its API and pushes) over a shop of ``--orders`` paid orders."""
    from adapters.channels import sim
    from adapters.channels.sim.core import Faults, Platform, run

    try:
        module = sim.module(args.kind)
        faults = Faults.read(json.loads(args.faults)) if args.faults else Faults()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    platform = Platform(module.protocol(), faults=faults, push_url=args.push or "", push_secret=args.secret or "")
    start = datetime.now(UTC) - timedelta(hours=1)
    for n in range(args.orders):
        platform.place(paid_at=start + timedelta(seconds=n * 3600 / max(args.orders, 1)), push=False)
    base = f"http://{args.host}:{args.port}"
    print(f"{args.kind} simulator on {base} with {args.orders} orders (truth: {base}/_sim/orders; "
          f"faults: {base}/_sim/faults; new order: POST {base}/_sim/orders)")
    print(f"  channel apiAccount: {json.dumps(module.account_config(base), ensure_ascii=False)}")
    print(f"  pushes go to {args.push or f'nowhere yet: PUT {base}/_sim/push'}")
    run(args.host, args.port, platform)


def cmd_sim_carrier(settings: Settings, args: argparse.Namespace) -> None:
    """Serve the three tracking providers' subscribe and query APIs; print the accounts that point at them."""
    from adapters.carriers.sim import TrackingSimulator, account_config, account_secret, run

    base = f"http://{args.host}:{args.port}"
    print(f"tracking-provider simulator on {base} (add a scan: POST {base}/_sim/scan "
          '{"number": "SF1234567890", "status": "IN_TRANSIT"}; faults: PUT /_sim/faults)')
    for provider in ("kuaidi100", "kdniao", "aftership"):
        print(f"  saveCarrierAccount provider {provider}: secret {account_secret(provider)!r}, "
              f"config {json.dumps(account_config(provider, base))}")
    print(f"  Kdniao and AfterShip push to the URL set with PUT {base}/_sim/push "
          '{"provider": "kdniao", "url": "http://127.0.0.1:8000/hooks/<tenant>/carrier/kdniao"}')
    run(args.host, args.port, TrackingSimulator())


def add_commands(sub: argparse._SubParsersAction, sims: argparse._SubParsersAction) -> None:
    from adapters.channels.sim import KINDS

    poll = sub.add_parser("poll", help="read a channel's orders from its platform API (a back-fill), or check a day")
    poll.add_argument("channel", help="the channel's code")
    poll.add_argument("--tenant", required=True)
    poll.add_argument("--since", type=_moment, help="from (ISO-8601, or -6h / -3d; default: a day before --until)")
    poll.add_argument("--until", type=_moment, help="to (default: now)")
    poll.add_argument("--check", action="store_true",
                      help="run the daily count-and-checksum check of the last day instead (missing orders are fetched)")
    poll.set_defaults(func=cmd_poll)
    channel = sims.add_parser("channel", help="a sales platform's order API and pushes, with injectable faults")
    channel.add_argument("--kind", required=True, choices=KINDS)
    channel.add_argument("--host", default="127.0.0.1")
    channel.add_argument("--port", type=int, default=9400)
    channel.add_argument("--orders", type=int, default=100, help="paid orders the shop starts with, over the last hour")
    channel.add_argument("--push", help="where pushes go: http://HOST/hooks/<tenant>/<channel code>")
    channel.add_argument("--secret", help="the channel's webhook secret (signs the pushes)")
    channel.add_argument("--faults", help='JSON, e.g. {"drop_push": 0.05, "rate_per_s": 10, "page_size_max": 20}')
    channel.set_defaults(func=cmd_sim_channel)
    carrier = sims.add_parser("carrier", help="Kuaidi100, Kdniao and AfterShip subscribe/query APIs that push scans")
    carrier.add_argument("--host", default="127.0.0.1")
    carrier.add_argument("--port", type=int, default=9500)
    carrier.set_defaults(func=cmd_sim_carrier)
