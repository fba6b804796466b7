"""The cross-system failure rate: of every exchange with an ERP or WMS, the share that failed or disagreed.

    rates = await failure_rates(tenant_id, days=7)      # per connection, with one row per UTC day
    ratios = await recent_ratios(hours=24)              # every tenant's connections, for /metrics

An exchange counts as failed when its outcome is in ``evidence.FAILED``: an
error, a timeout, an unreachable system, or an answer that contradicted what
OrderGraph knows (``disagreed``, set by the diagnosis and the drift check).
Pushes, queries and callbacks all count: the merchants' target is 0.3%.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from tortoise.functions import Count

from domain.errors import ValidationFailed
from domain.federation.evidence import FAILED
from models import SystemConnection, SystemExchange, Tenant

MAX_DAYS = 31
#: The share the seeds' merchants hold their integrations to.
TARGET = 0.003


@dataclass(slots=True)
class Tally:
    total: int = 0
    failed: int = 0
    disagreed: int = 0

    @property
    def ratio(self) -> float:
        return self.failed / self.total if self.total else 0.0

    def add(self, outcome: str, count: int) -> None:
        self.total += count
        if outcome in FAILED:
            self.failed += count
        if outcome == "disagreed":
            self.disagreed += count


@dataclass(slots=True)
class DailyRate:
    day: date
    tally: Tally


@dataclass(slots=True)
class ConnectionRate:
    connection: str              # the connection's code ("" for exchanges whose connection was deleted)
    system: str                  # wms | erp
    tally: Tally = field(default_factory=Tally)
    days: list[DailyRate] = field(default_factory=list)


async def _grouped(since: datetime, until: datetime, tenant_id: int | None = None) -> list[dict]:
    query = SystemExchange.filter(created_at__gte=since, created_at__lt=until)
    if tenant_id is not None:
        query = query.filter(tenant_id=tenant_id)
    return await query.annotate(count=Count("id")).group_by("connection_id", "system", "outcome").values(
        "connection_id", "system", "outcome", "count")


async def failure_rates(tenant_id: int, days: int = 7, *, now: datetime | None = None) -> list[ConnectionRate]:
    """Per connection of the tenant: the whole window's tally and one per UTC day (oldest first, today last)."""
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"days is 1 to {MAX_DAYS}", field="days")
    moment = now or datetime.now(UTC)
    codes = {row.id: (row.code, row.kind) for row in await SystemConnection.filter(tenant_id=tenant_id)}
    rates: dict[tuple[str, str], ConnectionRate] = {}
    for code, kind in codes.values():
        rates[(code, kind)] = ConnectionRate(code, kind)
    first = moment.date() - timedelta(days=days - 1)
    for offset in range(days):
        day = first + timedelta(days=offset)
        start = datetime.combine(day, time(), tzinfo=UTC)
        tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
        for row in await _grouped(start, min(start + timedelta(days=1), moment + timedelta(seconds=1)), tenant_id):
            code, kind = codes.get(row["connection_id"], ("", row["system"]))
            tallies[(code, kind)].add(row["outcome"], row["count"])
        for key in set(rates) | set(tallies):
            rate = rates.setdefault(key, ConnectionRate(*key))
            tally = tallies.get(key, Tally())
            rate.days.append(DailyRate(day, tally))
            rate.tally.total += tally.total
            rate.tally.failed += tally.failed
            rate.tally.disagreed += tally.disagreed
    for rate in rates.values():  # a connection first seen on a later day gets its earlier (empty) days too
        seen = {d.day for d in rate.days}
        rate.days = sorted(rate.days + [DailyRate(first + timedelta(days=o), Tally()) for o in range(days)
                                        if first + timedelta(days=o) not in seen], key=lambda d: d.day)
    return sorted(rates.values(), key=lambda r: (r.system, r.connection))


@dataclass(frozen=True, slots=True)
class Ratio:
    label: str                   # "<tenant slug>/<connection code>"
    system: str
    total: int
    failed: int

    @property
    def ratio(self) -> float:
        return self.failed / self.total if self.total else 0.0


async def recent_ratios(hours: float = 24.0, *, now: datetime | None = None) -> list[Ratio]:
    """Every connection's failure ratio over the last ``hours`` (connections without exchanges read 0)."""
    moment = now or datetime.now(UTC)
    connections = list(await SystemConnection.all().values_list("id", "tenant_id", "code", "kind"))
    slugs = dict(await Tenant.filter(id__in={c[1] for c in connections}).values_list("id", "slug")) if connections else {}
    tallies: dict[int, Tally] = defaultdict(Tally)
    for row in await _grouped(moment - timedelta(hours=hours), moment + timedelta(seconds=1)):
        if row["connection_id"] is not None:
            tallies[row["connection_id"]].add(row["outcome"], row["count"])
    return [Ratio(f"{slugs.get(tenant_id, tenant_id)}/{code}", kind, tallies[cid].total, tallies[cid].failed)
            for cid, tenant_id, code, kind in connections]
