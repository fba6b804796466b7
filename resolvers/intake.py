"""GraphQL glue for intake administration: channels, carrier accounts, status tables, quarantine, imports.

Every field here is admin-only (``domain.inbound.quarantine.require_admin``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Mapping
from typing import Any

from adapters.channels import generic
from adapters.channels.api import CHANNEL_APIS
from adapters.formats import FORMATS
from adapters.systems import SYSTEMS
from domain.actor import Actor, Role
from domain.errors import NotFound, ValidationFailed
from domain.federation.wms_callbacks import replay_wms
from domain.inbound.channel_api import ApiRefused
from domain.inbound import quarantine
from domain.inbound import status_mapping as mapping_tables
from domain.inbound.pipeline import Answer, Replay
from domain.intake import sources as intake_sources
from domain.intake.apply import reevaluate_unmapped
from domain.intake.bulk_import import import_file, server_file
from domain.intake.receive import replay_channel
from domain.tracking.receive import replay_carrier
from models import (
    CarrierAccount,
    Channel,
    ChannelOrderState,
    ImportRowError,
    ImportRun,
    QuarantinedPayload,
    StatusMappingTable,
)
from resolvers import ids
from resolvers.context import Context
from resolvers.pagination import Page, check_page_size, keyset_page

log = logging.getLogger("ordergraph.intake")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
_background: set[asyncio.Task[Any]] = set()


def admin(ctx: Context) -> Actor:
    actor = ctx.actor
    assert actor is not None
    quarantine.require_admin(actor)
    return actor


def _pk(global_id: str, type_name: str) -> int:
    try:
        return ids.decode(global_id, type_name)[1]
    except ids.BadId as exc:
        raise NotFound(str(exc), field="id") from None


# ------------------------------------------------------------------ channels and accounts


async def channels(ctx: Context) -> list[Channel]:
    return await Channel.filter(tenant_id=admin(ctx).tenant_id).order_by("code")


async def register_channel(ctx: Context, code: str, kind: str, name: str, secret: str | None, mapping: Any) -> Channel:
    return await intake_sources.register_channel(admin(ctx), code, kind, name, secret=secret, mapping=mapping,
                                                 check=generic.check_mapping)


def check_api_account(kind: str, account: Mapping[str, Any]) -> None:
    """``ValueError`` when the platform's client cannot be built from ``account`` (a missing or bad key)."""
    try:
        CHANNEL_APIS.for_channel(kind, dict(account))
    except ApiRefused as refused:
        raise ValueError(refused.message) from None


async def update_channel(ctx: Context, code: str, name: str | None, secret: str | None, mapping: Any,
                         import_mapping: Any, api_account: Any = None, polling: bool | None = None) -> Channel:
    return await intake_sources.update_channel(admin(ctx), code, name=name, secret=secret, mapping=mapping,
                                               import_mapping=import_mapping, check=generic.check_mapping,
                                               api=api_account, api_check=check_api_account, polling=polling)


async def carrier_accounts(ctx: Context) -> list[CarrierAccount]:
    return await CarrierAccount.filter(tenant_id=admin(ctx).tenant_id).order_by("provider")


async def save_carrier_account(ctx: Context, provider: str, secret: str, config: Any) -> CarrierAccount:
    return await intake_sources.set_carrier_account(admin(ctx), provider, secret, config)


# ------------------------------------------------------------------ status tables


async def table_names(ctx: Context) -> list[str]:
    own = await StatusMappingTable.filter(tenant_id=admin(ctx).tenant_id).values_list("name", flat=True)
    return mapping_tables.table_names(own)  # type: ignore[arg-type]


async def table(ctx: Context, name: str) -> tuple[mapping_tables.Table, list[Any]]:
    actor = admin(ctx)
    loaded = await mapping_tables.load(actor.tenant_id, [name])
    return loaded.table(name), await mapping_tables.history(actor.tenant_id, name)


async def save_table(ctx: Context, name: str, entries: dict[str, Any], remove: list[str], reason: str) -> tuple[mapping_tables.Table, list[int]]:
    """Save a new version, then re-read the orders held for codes of this table that were unmapped."""
    actor = admin(ctx)
    await mapping_tables.save(actor, name, entries, remove=remove, reason=reason)
    mapper = Actor(tenant_id=actor.tenant_id, role=Role.SERVICE, name=f"mapping:{name}"[:100],
                   source="carrier" if mapping_tables.table_kind(name) == "shipment" else "channel")
    touched = await reevaluate_unmapped(mapper, name) if mapping_tables.table_kind(name) == "order" else []
    loaded = await mapping_tables.load(actor.tenant_id, [name])
    return loaded.table(name), touched


# ------------------------------------------------------------------ quarantine


async def quarantined(ctx: Context, status: str | None, first: int, after: str | None) -> Page:
    """A page of quarantined payloads, newest first, each with its raw payload row."""
    check_page_size(first, ctx.max_page_size)
    page = await keyset_page(quarantine.visible(admin(ctx), status), "id", descending=True, first=first, after=after)
    if page.rows:
        await QuarantinedPayload.fetch_for_list(page.rows, "payload")
    return page


async def quarantined_one(ctx: Context, global_id: str) -> QuarantinedPayload:
    return await quarantine.get(admin(ctx), _pk(global_id, "QuarantinedPayload"))


async def replay(ctx: Context, global_id: str) -> tuple[QuarantinedPayload, Answer]:
    actor = admin(ctx)
    row = await quarantine.get(actor, _pk(global_id, "QuarantinedPayload"))
    if row.status == quarantine.REPLAYED:
        raise ValidationFailed("this payload was already replayed", field="id")
    if row.kind == "wms":
        answer = await replay_wms(row, SYSTEMS, Replay(row, actor))
    else:
        replaying = replay_channel if row.kind == "channel" else replay_carrier
        answer = await replaying(row, FORMATS, Replay(row, actor))
    return await quarantine.get(actor, row.id), answer


async def discard(ctx: Context, global_id: str, reason: str) -> QuarantinedPayload:
    return await quarantine.discard(admin(ctx), _pk(global_id, "QuarantinedPayload"), reason)


# ------------------------------------------------------------------ imports


def _upload(content_base64: str | None) -> bytes | None:
    if content_base64 is None:
        return None
    if len(content_base64) > MAX_UPLOAD_BYTES * 4 // 3 + 4:
        raise ValidationFailed(f"files up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB", field="contentBase64")
    try:
        return base64.b64decode(content_base64.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValidationFailed("contentBase64 is not base64 (A-Z, a-z, 0-9, +, / and = only)",
                               field="contentBase64") from None


async def start_import(
    ctx: Context, channel: str, file_name: str | None, content_base64: str | None, server_path: str | None,
    fmt: str | None, encoding: str, wait: bool, import_dir: str, batch_size: int,
) -> ImportRun:
    """Import an uploaded file or one under the server's import folder; ``wait=False`` returns while it runs."""
    actor = admin(ctx)
    data = _upload(content_base64)
    if (data is None) == (server_path is None):
        raise ValidationFailed("give either contentBase64 or serverPath", field="contentBase64")
    if data is None:
        path = server_file(import_dir, server_path)  # type: ignore[arg-type]
        data, name = path.read_bytes(), path.name
    else:
        name = file_name or "upload"
    if wait:
        return await import_file(actor, channel, name, data, files=FORMATS.files, fmt=fmt, encoding=encoding,
                                 batch_size=batch_size)
    started: asyncio.Future[ImportRun] = asyncio.get_running_loop().create_future()

    async def work() -> None:
        try:
            await import_file(actor, channel, name, data, files=FORMATS.files, fmt=fmt, encoding=encoding, batch_size=batch_size,
                           on_started=lambda run: started.done() or started.set_result(run))
        except Exception as error:  # reported on the run (interrupted) or to the caller if it never started
            if not started.done():
                started.set_exception(error)
            else:
                log.exception("import of %s failed", name)

    task = asyncio.create_task(work(), name=f"import-{name}")
    _background.add(task)
    task.add_done_callback(_background.discard)
    return await started


async def import_run(ctx: Context, global_id: str) -> ImportRun | None:
    return await ImportRun.filter(id=_pk(global_id, "ImportRun"), tenant_id=admin(ctx).tenant_id).first()


async def import_runs(ctx: Context, first: int, after: str | None) -> Page:
    """A page of the tenant's imports, newest first (admins)."""
    check_page_size(first, ctx.max_page_size)
    return await keyset_page(ImportRun.filter(tenant_id=admin(ctx).tenant_id), "id", descending=True, first=first,
                             after=after)


async def import_errors(ctx: Context, run_id: int, first: int, after: str | None) -> Page:
    """A page of one run's refused rows in row order (the run was read through the caller's tenant)."""
    check_page_size(first, ctx.max_page_size)
    return await keyset_page(ImportRowError.filter(run_id=run_id), "row", descending=False, first=first, after=after)


async def channel_state(ctx: Context, order_global_id: str) -> ChannelOrderState | None:
    actor = admin(ctx)
    return await ChannelOrderState.filter(order_id=_pk(order_global_id, "Order"), tenant_id=actor.tenant_id).first()
