"""Bulk import of channel orders from a file: valid rows committed in batches, refused rows reported by number.

    run = await import_file(actor, "tmall", "june.csv", data, files=FORMATS.files, progress=bar.update)

``import_file`` keeps the file as evidence, opens (or resumes) its run and
feeds the groups the ``OrderFiles`` port reads into ``import_groups``. Each
batch is one transaction that also advances ``ImportRun.next_row``, so a
crash loses at most the batch in flight and re-running the same file (same
SHA-256) resumes where it stopped; a finished file re-run changes nothing.
Orders already known (from a webhook, or an earlier file) go through the same
``intake`` rules as a webhook: newer updates apply, equal ones are
duplicates (unless their content differs), older ones are recorded as stale.
First-seen orders are written with bulk inserts, with the same rows, lineage
and alerts as a webhook (``domain.intake.rows``). The channel's SKU aliases
are read once per batch, not per order or line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from domain.actor import Actor
from domain.allocation.policy import policy_for
from domain.errors import NotFound, ValidationFailed
from domain.inbound import payloads
from domain.inbound import status_mapping as mapping_tables
from domain.inbound.formats import OrderFiles, ParsedGroup
from domain.inbound.normalized import PayloadError
from domain.inbound.quarantine import require_admin
from domain.intake.apply import Arrival, Outcome, apply_in_transaction, channel_actor
from domain.intake.first_seen import insert_first_seen
from domain.intake.lookup import aliases_for, by_external_ids
from domain.intake.plan import OrderPlan, check_storable, plan_new_order
from domain.intake.reading import read, tables_for
from domain.intake.sources import channel_mapping
from domain.unit_of_work import unit_of_work
from models import Channel, ImportRowError, ImportRun

MAX_REPORTED_ERRORS = 10_000


async def start_run(
    actor: Actor, channel: Channel, *, file_name: str, sha256: str, fmt: str, payload_id: int | None, total_rows: int
) -> tuple[ImportRun, int]:
    """The run for this file (new, or the one to resume) and the first row still to import."""
    require_admin(actor)
    for _ in range(2):
        run = await ImportRun.filter(tenant_id=actor.tenant_id, channel_id=channel.id, file_sha256=sha256).first()
        if run is not None:
            if run.status != "done":
                await ImportRun.filter(id=run.id).update(status="running", message="resumed", finished_at=None)
                await run.refresh_from_db()
            return run, run.next_row
        try:
            run = await ImportRun.create(
                tenant_id=actor.tenant_id, channel_id=channel.id, payload_id=payload_id, file_name=file_name[:255],
                file_sha256=sha256, format=fmt, total_rows=total_rows, started_by=actor.name[:100],
            )
            return run, run.next_row
        except IntegrityError:  # the same file started twice at once: join the other run
            continue
    raise AssertionError("unreachable")


async def import_groups(
    actor: Actor,
    channel: Channel,
    run: ImportRun,
    groups: Iterable[ParsedGroup],
    *,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> ImportRun:
    """Apply parsed groups batch by batch; returns the finished run."""
    if run.status == "done":
        return run
    importer = _Importer(actor, channel, run)
    await importer.prepare()
    batch: list[ParsedGroup] = []
    rows = 0
    try:
        for group in groups:
            batch.append(group)
            rows += group.rows
            if rows >= batch_size:
                await importer.commit(batch)
                if progress:
                    progress(rows)
                batch, rows = [], 0
        if batch:
            await importer.commit(batch)
            if progress:
                progress(rows)
    except Exception as exc:
        await ImportRun.filter(id=run.id).update(status="interrupted", message=f"{type(exc).__name__}: {exc}"[:500])
        raise
    await ImportRun.filter(id=run.id).update(status="done", finished_at=datetime.now(UTC), message="")
    await run.refresh_from_db()
    return run


class _Importer:
    def __init__(self, actor: Actor, channel: Channel, run: ImportRun) -> None:
        self.actor = actor
        self.channel = channel
        self.run = run
        self.auto_allocate = False

    async def prepare(self) -> None:
        policy = await policy_for(self.actor.tenant_id, self.channel.id)
        self.auto_allocate = policy.auto_allocate

    async def commit(self, batch: list[ParsedGroup]) -> None:
        for attempt in range(2):
            try:
                async with unit_of_work():
                    await self._commit(batch)
                return
            except IntegrityError:
                # A webhook created one of these orders meanwhile: retry, it is now an update.
                if attempt == 1:
                    raise

    async def _commit(self, batch: list[ParsedGroup]) -> None:
        run = await ImportRun.filter(id=self.run.id).select_for_update().first()
        assert run is not None
        if run.next_row > batch[0].first_row:
            batch = [group for group in batch if group.first_row >= run.next_row]  # a twin run did these
            if not batch:
                return
        refused: list[ParsedGroup] = []
        valid: list[ParsedGroup] = []
        for group in batch:
            if group.inbound is not None:
                try:
                    check_storable(group.inbound)
                    valid.append(group)
                    continue
                except PayloadError as error:  # parsed, but not storable exactly: refused by row, field named
                    group = dataclasses.replace(group, field=error.field, error=error.reason)
            refused.append(group)
        errors = [self._error(group) for group in refused]
        ids = [group.inbound.external_id for group in valid]  # type: ignore[union-attr]
        existing = {row[0] for row in await by_external_ids(self.actor.tenant_id, self.channel.id, ids)}
        # The channel's SKU aliases, once for the whole batch.
        aliases = await aliases_for(self.actor.tenant_id, self.channel.id,
                                    (line.sku for group in valid for line in group.inbound.lines))  # type: ignore[union-attr]
        counts = {Outcome.CREATED: 0, Outcome.UPDATED: 0}
        unchanged = 0
        fresh: list[tuple[ParsedGroup, OrderPlan]] = []
        mappings_cache: dict[frozenset[str], Any] = {}
        now = datetime.now(UTC)
        for group in valid:
            inbound = group.inbound
            assert inbound is not None
            names = frozenset(tables_for(inbound.source, inbound.extra_codes))
            if names not in mappings_cache:
                mappings_cache[names] = await mapping_tables.load(self.actor.tenant_id, names)
            reading = read(inbound.source, inbound.status_code, inbound.extra_codes, mappings_cache[names])
            if inbound.external_id in existing:
                result = await apply_in_transaction(self.actor, self.channel, inbound, self._arrival(group), reading,
                                                    aliases)
                if result.outcome in counts:
                    counts[result.outcome] += 1
                else:
                    unchanged += 1
                continue
            existing.add(inbound.external_id)
            fresh.append((group, plan_new_order(inbound, reading, channel_id=self.channel.id, source=inbound.source,
                                                payload_sha256="", received_at=now, aliases=aliases)))
        if fresh:
            await self._insert(fresh)
            counts[Outcome.CREATED] += len(fresh)
        if errors:
            await ImportRowError.bulk_create(errors, ignore_conflicts=True)
        done_rows = sum(group.rows for group in batch)
        await ImportRun.filter(id=run.id).update(
            next_row=batch[-1].last_row + 1,
            rows_done=F("rows_done") + done_rows,
            rows_failed=F("rows_failed") + sum(group.rows for group in refused),
            orders_created=F("orders_created") + counts[Outcome.CREATED],
            orders_updated=F("orders_updated") + counts[Outcome.UPDATED],
            orders_unchanged=F("orders_unchanged") + unchanged,
        )

    def _arrival(self, group: ParsedGroup) -> Arrival:
        return Arrival(via="import", payload_ref=f"import:{self.run.id}:row:{group.first_row}")

    def _error(self, group: ParsedGroup) -> ImportRowError:
        span = f" (order rows {group.first_row}-{group.last_row})" if group.rows > 1 else ""
        return ImportRowError(run_id=self.run.id, row=group.first_row, field=group.field[:200],
                              message=f"{group.error}{span}"[:500])

    async def _insert(self, fresh: list[tuple[ParsedGroup, OrderPlan]]) -> None:
        """First-seen orders with a handful of multi-row inserts instead of several statements per order."""
        await insert_first_seen(self.actor, self.channel.id, [(plan, self._arrival(group).ref) for group, plan in fresh],
                                via="import", reason="imported: channel reports {status_code}",
                                auto_allocate=self.auto_allocate)


async def row_errors(run_id: int, first: int = 100, after_row: int = 0) -> list[ImportRowError]:
    return await ImportRowError.filter(run_id=run_id, row__gt=after_row).order_by("row").limit(first)


async def import_file(
    actor: Actor,
    channel_code: str,
    file_name: str,
    data: bytes,
    *,
    files: OrderFiles,
    fmt: str | None = None,
    encoding: str = "utf-8",
    batch_size: int = 1000,
    on_started: Callable[[ImportRun], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportRun:
    """Import (or resume importing) one file into a channel; returns the run with its counts.

    Rows of one order must be adjacent and share its external id; the mapping
    is the channel's generic mapping (``import_mapping`` if it has one).
    """
    require_admin(actor)
    channel = await Channel.filter(tenant_id=actor.tenant_id, code=channel_code).first()
    if channel is None:
        raise NotFound(f"no channel {channel_code!r}", field="channel")
    mapping = channel_mapping(channel, for_import=True)
    if not mapping:
        raise ValidationFailed(f"channel {channel_code} has no field mapping for imports; set mapping or "
                               "import_mapping with updateChannel", field="channel")
    try:
        files.check_mapping(mapping)
        kind = files.detect_format(file_name, data, fmt)
        total = files.count_rows(data, kind, encoding=encoding)
    except ValueError as error:  # an unreadable file or a broken mapping
        raise ValidationFailed(str(error), field="file") from None
    payload_id, sha = await payloads.store(actor.tenant_id, "import", channel.code, data,
                                           {"file-name": file_name[:255], "format": kind}, kind)
    run, start = await start_run(actor, channel, file_name=file_name, sha256=sha, fmt=kind, payload_id=payload_id,
                                 total_rows=total)
    if on_started:
        on_started(run)
    if run.status == "done":
        return run
    importer = channel_actor(actor.tenant_id, channel.code, f"import#{run.id}")
    groups = files.groups(data, kind, mapping, encoding=encoding, start_row=start)
    return await import_groups(importer, channel, run, groups, batch_size=batch_size, progress=progress)


def server_file(import_dir: str, path: str) -> Path:
    """A file under the configured import folder; anything outside it is refused."""
    root = Path(import_dir).resolve()
    candidate = (root / path).resolve()
    if root not in candidate.parents and candidate != root:
        raise ValidationFailed(f"server imports read only from {root}", field="serverPath")
    if not candidate.is_file():
        raise NotFound(f"no file {path!r} in the import folder", field="serverPath")
    return candidate
