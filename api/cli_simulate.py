"""``ordergraph simulate``: the command line of :mod:`api.simulate` (the figures as JSON lines, the report saved).

    ordergraph simulate --orders 500 --hours 24 --speed 2000 --profile small --seed 7 --report var/chaos/small.html
    ordergraph simulate --profile chaos --database-url postgres://postgres@127.0.0.1:5432/test --redis private \\
        --workers 2                                    # the full day of `make chaos`
    ordergraph simulate ... --server-env ORDERGRAPH_POLL_SECONDS=0     # a deliberately broken build

Exit status 0 when the day passed (100 % agreement, every fault detected within
60 s, nothing lost or applied twice), 1 when it did not, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.settings import Settings

if TYPE_CHECKING:
    from chaos.result import RunResult


def cmd_simulate(_settings: Settings, args: argparse.Namespace) -> None:
    from api.simulate import Options, simulate
    from chaos import report
    from chaos.profile import ProfileError, load

    try:
        profile = load(args.profile)
        server_env = dict(_pair(item) for item in args.server_env)
    except (ProfileError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    options = Options(profile=profile, orders=args.orders, hours=args.hours, speed=args.speed, seed=args.seed,
                      database_url=args.database_url or "", redis=args.redis, workers=args.workers, keep=args.keep,
                      server_env=server_env, progress=not args.quiet)
    print(f"simulating {args.orders} orders over {args.hours:g} business hours at {args.speed:g}× "
          f"({args.hours * 3600 / args.speed:.0f} s on the wall), profile {profile.name}, seed {args.seed}", flush=True)
    try:
        result = asyncio.run(_until_stopped(simulate(options)))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: the day's servers, Redis and database were stopped and removed", file=sys.stderr)
        sys.exit(130)
    html_path, json_path = report.save(result, Path(args.report))
    print(report.summary(result, color=sys.stdout.isatty()))
    for figure in result.figures():
        print(json.dumps(figure, ensure_ascii=False))
    print(f"report: {html_path} (data: {json_path})")
    sys.exit(0 if result.passed else 1)


async def _until_stopped(run: Coroutine[Any, Any, RunResult]) -> RunResult:
    """``run``, cancelled by SIGTERM as by Ctrl-C, so its servers, Redis and database are stopped and removed
    (SIGTERM's default ends the process at once and leaves them running)."""
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)  # type: ignore[union-attr]
    return await run


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"--server-env {text!r}: NAME=VALUE")
    return name, value


def add_command(sub: argparse._SubParsersAction) -> None:
    simulate = sub.add_parser("simulate", help="a compressed business day with injected faults against OrderGraph, "
                                               "judged against the simulators' truth (report + JSON figures)")
    simulate.add_argument("--orders", type=int, default=20_000, help="orders placed over the day (20000)")
    simulate.add_argument("--hours", type=float, default=24.0, help="business hours simulated (24)")
    simulate.add_argument("--speed", type=float, default=100.0, help="business seconds per wall second (100)")
    simulate.add_argument("--profile", default="chaos", help="a fault profile (YAML file, or a name under "
                                                             "chaos/profiles: chaos, small)")
    simulate.add_argument("--seed", type=int, default=7)
    simulate.add_argument("--database-url", help="a PostgreSQL server to create a throw-away database on "
                                                 "(default: a new SQLite file)")
    simulate.add_argument("--redis", default="none",
                          help="none (in-process events), private (a redis-server of the run's own, restartable), "
                               "or a redis:// URL (not restarted)")
    simulate.add_argument("--workers", type=int, default=1, help="OrderGraph processes (uvicorn workers)")
    simulate.add_argument("--report", default="var/chaos/report.html", help="where the HTML report goes "
                                                                         "(the JSON beside it)")
    simulate.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                          help="a setting for the OrderGraph processes (repeatable)")
    simulate.add_argument("--keep", action="store_true", help="keep the day's database afterwards")
    simulate.add_argument("--quiet", action="store_true", help="no progress lines while the day runs")
    simulate.set_defaults(func=cmd_simulate)
