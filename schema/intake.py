"""Admin GraphQL for intake: channels and their mappings, carrier accounts, status tables, quarantine, imports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain import statuses
from domain.inbound.tracking_api import redacted
from resolvers import ids
from resolvers import intake as intake_resolvers
from schema.enums import OrderStatus, PaymentStatus, ShipmentStatus
from schema.errors import UserError, attempt

AfterSaleStatus = strawberry.enum(statuses.AfterSaleStatus, description="After-sale (refund / return / exchange) status.")

_SECRET_HEADERS = frozenset({"x-shopify-hmac-sha256", "webhook-signature", "aftership-hmac-sha256"})


def _settings(info: Info) -> Any:
    request = info.context.request
    return getattr(getattr(getattr(request, "app", None), "state", None), "settings", None)


@strawberry.type(description="A sales channel as intake sees it: kind, whether it can verify webhooks, its mapping.")
class IntakeChannel:
    id: strawberry.ID
    code: str
    kind: str
    name: str
    has_secret: bool
    mapping: JSON | None
    import_mapping: JSON | None
    hook_path: str = strawberry.field(description="Where the channel posts, relative to this server.")

    @classmethod
    def from_row(cls, row: Any, tenant_slug: str) -> IntakeChannel:
        config = row.config or {}
        return cls(id=strawberry.ID(ids.encode("Channel", row.id)), code=row.code, kind=row.kind, name=row.name,
                   has_secret=bool(row.secret), mapping=config.get("mapping"), import_mapping=config.get("import_mapping"),
                   hook_path=f"/hooks/{tenant_slug}/{row.code}")


@strawberry.type
class IntakeChannelPayload:
    channel: IntakeChannel | None
    errors: list[UserError]


@strawberry.type(description="An account with a tracking provider; the key itself is never shown.")
class CarrierAccount:
    provider: str
    config: JSON
    has_secret: bool
    hook_path: str


@strawberry.type
class CarrierAccountPayload:
    account: CarrierAccount | None
    errors: list[UserError]


@strawberry.type(description="How one raw code is read. `origin` is `default` (shipped) or `tenant` (your override).")
class StatusMappingEntry:
    code: str
    order: OrderStatus | None
    payment: PaymentStatus | None
    after_sale: AfterSaleStatus | None
    shipment: ShipmentStatus | None
    unmapped: bool
    origin: str


@strawberry.type
class StatusMappingVersion:
    version: int
    changed_by: str
    reason: str
    created_at: datetime
    entries: JSON


@strawberry.type(description="A status mapping table: defaults plus this tenant's overrides, at `version` (0 = defaults).")
class StatusMappingTable:
    name: str
    kind: str
    version: int
    entries: list[StatusMappingEntry]
    history: list[StatusMappingVersion]


@strawberry.type
class StatusMappingPayload:
    table: StatusMappingTable | None
    reevaluated_orders: int = strawberry.field(description="Orders held for a code this save maps, re-read now.")
    errors: list[UserError]


@strawberry.type(description="An inbound payload that could not be applied, kept for inspection and replay.")
class QuarantinedPayload:
    id: strawberry.ID
    kind: str
    source: str
    reason_code: str
    reason: str
    field: str
    http_status: int
    verified: bool
    status: str
    seen_count: int
    attempts: int
    last_error: str
    outcome: JSON | None
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    payload_sha256: str
    content_type: str
    size: int
    headers: JSON = strawberry.field(description="The headers kept with it (signature values shortened).")
    body: str = strawberry.field(description="The raw body as UTF-8 text (undecodable bytes replaced).")

    @classmethod
    def from_row(cls, row: Any) -> QuarantinedPayload:
        payload = row.payload
        headers = {k: (v[:12] + "…" if k in _SECRET_HEADERS and len(v) > 12 else v) for k, v in (payload.headers or {}).items()}
        return cls(
            id=strawberry.ID(ids.encode("QuarantinedPayload", row.id)), kind=row.kind, source=row.source,
            reason_code=row.reason_code, reason=row.reason, field=row.field, http_status=row.http_status,
            verified=row.verified, status=row.status, seen_count=row.seen_count, attempts=row.attempts,
            last_error=row.last_error, outcome=row.outcome, first_seen_at=row.first_seen_at,
            last_seen_at=row.last_seen_at, resolved_at=row.resolved_at, payload_sha256=payload.sha256,
            content_type=payload.content_type, size=payload.size, headers=headers,
            body=bytes(payload.body).decode("utf-8", errors="replace"),
        )


@strawberry.type
class ReplayPayload:
    item: QuarantinedPayload | None
    http_status: int | None
    outcome: str | None
    response: JSON | None
    errors: list[UserError]


@strawberry.type
class DiscardPayload:
    item: QuarantinedPayload | None
    errors: list[UserError]


@strawberry.type
class ImportRowError:
    row: int = strawberry.field(description="Spreadsheet row number; the header is row 1.")
    field: str
    message: str


@strawberry.type(description="One import of a file into a channel; re-running the same file resumes it.")
class ImportRun:
    id: strawberry.ID
    file_name: str
    format: str
    status: str = strawberry.field(description="running, done or interrupted (re-run the file to resume).")
    total_rows: int
    rows_done: int
    rows_failed: int
    orders_created: int
    orders_updated: int
    orders_unchanged: int
    next_row: int
    message: str
    file_sha256: str
    started_at: datetime
    finished_at: datetime | None
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> ImportRun:
        return cls(
            id=strawberry.ID(ids.encode("ImportRun", row.id)), file_name=row.file_name, format=row.format,
            status=row.status, total_rows=row.total_rows, rows_done=row.rows_done, rows_failed=row.rows_failed,
            orders_created=row.orders_created, orders_updated=row.orders_updated,
            orders_unchanged=row.orders_unchanged, next_row=row.next_row, message=row.message,
            file_sha256=row.file_sha256, started_at=row.started_at, finished_at=row.finished_at, pk=row.id,
        )

    @strawberry.field(description="Refused rows, in row order.")
    async def errors(self, first: int = 100, after_row: int = 0) -> list[ImportRowError]:
        rows = await intake_resolvers.import_errors(self.pk, max(1, min(first, 1000)), after_row)
        return [ImportRowError(row=r.row, field=r.field, message=r.message) for r in rows]


@strawberry.type
class ImportPayload:
    run: ImportRun | None
    errors: list[UserError]


@strawberry.type(description="What the channel last said about an order, raw and as mapped.")
class ChannelOrderState:
    source: str
    status_code: str
    extra_codes: JSON
    mapped: JSON
    unmapped: list[str]
    after_sale: JSON
    source_updated_at: datetime
    payload_sha256: str


@strawberry.input
class RegisterChannelInput:
    code: str
    kind: str = strawberry.field(description="shopify, taobao, pinduoduo, douyin, wechat_channels, amazon or generic.")
    name: str
    secret: str | None = strawberry.field(default=None, description="Webhook signing secret (16+ characters).")
    mapping: JSON | None = strawberry.field(default=None, description="Generic JMESPath field mapping (required for generic).")


@strawberry.input
class UpdateChannelInput:
    code: str
    name: str | None = None
    secret: str | None = strawberry.field(default=None, description="A new secret (rotation).")
    mapping: JSON | None = None
    import_mapping: JSON | None = strawberry.field(default=None, description="Mapping for CSV/XLSX imports, if different.")
    api_account: JSON | None = strawberry.field(default=None, description=(
        "The platform API account (write-only): Taobao app_key, app_secret, session; Pinduoduo and Douyin "
        "app_key, app_secret, access_token; WeChat Channels app_id, app_secret; Amazon client_id, client_secret, "
        "refresh_token, marketplace_ids; Shopify base_url, access_token. Optional base_url, sign_method, "
        "timeout_seconds, scene, page_size, token_url, api_version. Used to poll the platform, fetch orders "
        "its messages announce and decrypt sealed receivers. Checked, then replaces the stored account; never "
        "returned."))
    polling: bool | None = strawberry.field(default=None, description=(
        "false stops polling this channel's platform API (announced orders are still fetched); true resumes."))


@strawberry.input
class CarrierAccountInput:
    provider: str = strawberry.field(description="kdniao, kuaidi100 or aftership.")
    secret: str = strawberry.field(description="Kdniao AppKey, Kuaidi100 salt or AfterShip webhook secret.")
    config: JSON | None = strawberry.field(default=None, description='e.g. {"ebusiness_id": "1237100"} for Kdniao.')


@strawberry.input
class StatusMappingEntryInput:
    code: str
    order: OrderStatus | None = None
    payment: PaymentStatus | None = None
    after_sale: AfterSaleStatus | None = None
    shipment: ShipmentStatus | None = None
    unmapped: bool = strawberry.field(default=False, description="Deliberately leave this code unmapped.")


@strawberry.input
class SaveStatusMappingInput:
    table: str = strawberry.field(description="e.g. taobao, taobao.refund_status, kdniao, or a generic source name.")
    entries: list[StatusMappingEntryInput] = strawberry.field(default_factory=list)
    remove: list[str] = strawberry.field(default_factory=list, description="Codes to return to the default.")
    reason: str = ""


@strawberry.input
class ImportOrdersInput:
    channel: str
    file_name: str | None = None
    content_base64: str | None = strawberry.field(default=None, description="The file, base64-encoded (up to 50 MiB).")
    server_path: str | None = strawberry.field(default=None, description="A file under ORDERGRAPH_IMPORT_DIR.")
    format: str | None = strawberry.field(default=None, description="csv or xlsx (default: from the name or content).")
    encoding: str = "utf-8"
    wait: bool = strawberry.field(default=True, description="false: return at once and poll importRun.")


def _value(member: Any) -> str | None:
    return None if member is None else getattr(member, "value", member)


def _table(table: Any, history: list[Any]) -> StatusMappingTable:
    from domain.inbound import status_maps
    from domain.inbound.status_mapping import table_kind

    codes = sorted(set(status_maps.TABLES.get(table.name, {})) | set(table.overrides))
    entries = []
    for code in codes:
        entry = table.lookup(code) or {}
        entries.append(StatusMappingEntry(
            code=code,
            order=OrderStatus(entry["order"]) if entry.get("order") else None,
            payment=PaymentStatus(entry["payment"]) if entry.get("payment") else None,
            after_sale=AfterSaleStatus(entry["after_sale"]) if entry.get("after_sale") else None,
            shipment=ShipmentStatus(entry["shipment"]) if entry.get("shipment") else None,
            unmapped=not entry,
            origin="tenant" if code in table.overrides else "default",
        ))
    return StatusMappingTable(
        name=table.name, kind=table_kind(table.name), version=table.version, entries=entries,
        history=[StatusMappingVersion(version=v.version, changed_by=v.changed_by, reason=v.reason,
                                      created_at=v.created_at, entries=v.entries) for v in history],
    )


async def _slug(info: Info) -> str:
    from models import Tenant

    return await Tenant.filter(id=info.context.actor.tenant_id).first().values_list("slug", flat=True)  # type: ignore[return-value]


@strawberry.type
class IntakeQuery:
    @strawberry.field(description="Channels with their intake settings (admin).")
    async def intake_channels(self, info: Info) -> list[IntakeChannel]:
        rows = await intake_resolvers.channels(info.context)
        slug = await _slug(info)
        return [IntakeChannel.from_row(row, slug) for row in rows]

    @strawberry.field(description="Tracking provider accounts (admin).")
    async def carrier_accounts(self, info: Info) -> list[CarrierAccount]:
        rows = await intake_resolvers.carrier_accounts(info.context)
        slug = await _slug(info)
        return [CarrierAccount(provider=r.provider, config=redacted(r.config), has_secret=bool(r.secret),
                               hook_path=f"/hooks/{slug}/carrier/{r.provider}") for r in rows]

    @strawberry.field(description="Names of the status mapping tables (shipped and your own).")
    async def status_mapping_tables(self, info: Info) -> list[str]:
        return await intake_resolvers.table_names(info.context)

    @strawberry.field(description="One status mapping table with its version history (admin).")
    async def status_mapping(self, info: Info, table: str) -> StatusMappingTable:
        found, history = await intake_resolvers.table(info.context, table)
        return _table(found, history)

    @strawberry.field(description="Quarantined inbound payloads, newest first (admin). status: open, replayed, discarded.")
    async def quarantine(self, info: Info, status: str | None = "open", first: int = 20,
                         after: strawberry.ID | None = None) -> list[QuarantinedPayload]:
        return [QuarantinedPayload.from_row(row) for row in
                await intake_resolvers.quarantined(info.context, status, first, after)]

    @strawberry.field(description="One quarantined payload with its raw body (admin).")
    async def quarantined_payload(self, info: Info, id: strawberry.ID) -> QuarantinedPayload:
        return QuarantinedPayload.from_row(await intake_resolvers.quarantined_one(info.context, id))

    @strawberry.field
    async def import_run(self, info: Info, id: strawberry.ID) -> ImportRun | None:
        row = await intake_resolvers.import_run(info.context, id)
        return ImportRun.from_row(row) if row else None

    @strawberry.field(description="Recent imports, newest first (admin).")
    async def import_runs(self, info: Info, first: int = 20) -> list[ImportRun]:
        return [ImportRun.from_row(row) for row in await intake_resolvers.import_runs(info.context, first)]

    @strawberry.field(description="What the channel last said about an order (admin).")
    async def channel_order_state(self, info: Info, order_id: strawberry.ID) -> ChannelOrderState | None:
        row = await intake_resolvers.channel_state(info.context, order_id)
        if row is None:
            return None
        return ChannelOrderState(source=row.source, status_code=row.status_code, extra_codes=row.extra_codes,
                                 mapped=row.mapped, unmapped=list(row.unmapped), after_sale=row.after_sale,
                                 source_updated_at=row.source_updated_at, payload_sha256=row.payload_sha256)


@strawberry.type
class IntakeMutation:
    @strawberry.mutation(description="Register a channel whose webhooks will be accepted (admin). A generic mapping is validated.")
    async def register_channel(self, info: Info, input: RegisterChannelInput) -> IntakeChannelPayload:
        row, errors = await attempt(lambda: intake_resolvers.register_channel(
            info.context, input.code, input.kind, input.name, input.secret, input.mapping))
        return IntakeChannelPayload(channel=IntakeChannel.from_row(row, await _slug(info)) if row else None, errors=errors)

    @strawberry.mutation(description="Change a channel's name, secret or mappings (admin).")
    async def update_channel(self, info: Info, input: UpdateChannelInput) -> IntakeChannelPayload:
        row, errors = await attempt(lambda: intake_resolvers.update_channel(
            info.context, input.code, input.name, input.secret, input.mapping, input.import_mapping, input.api_account,
            input.polling))
        return IntakeChannelPayload(channel=IntakeChannel.from_row(row, await _slug(info)) if row else None, errors=errors)

    @strawberry.mutation(description="Create or replace the account of a tracking provider (admin).")
    async def save_carrier_account(self, info: Info, input: CarrierAccountInput) -> CarrierAccountPayload:
        row, errors = await attempt(lambda: intake_resolvers.save_carrier_account(
            info.context, input.provider, input.secret, input.config))
        account = None
        if row is not None:
            account = CarrierAccount(provider=row.provider, config=redacted(row.config), has_secret=True,
                                     hook_path=f"/hooks/{await _slug(info)}/carrier/{row.provider}")
        return CarrierAccountPayload(account=account, errors=errors)

    @strawberry.mutation(description="Save codes of a status mapping table as a new version (admin); "
                                     "orders held for codes it now maps are re-read.")
    async def save_status_mapping(self, info: Info, input: SaveStatusMappingInput) -> StatusMappingPayload:
        entries: dict[str, Any] = {}
        for entry in input.entries:
            if entry.unmapped:
                entries[entry.code] = None
            elif entry.shipment is not None:
                entries[entry.code] = {"shipment": _value(entry.shipment)}
            else:
                entries[entry.code] = {"order": _value(entry.order), "payment": _value(entry.payment),
                                       "after_sale": _value(entry.after_sale)}
        result, errors = await attempt(lambda: intake_resolvers.save_table(
            info.context, input.table, entries, list(input.remove), input.reason))
        if result is None:
            return StatusMappingPayload(table=None, reevaluated_orders=0, errors=errors)
        table, touched = result
        _, history = await intake_resolvers.table(info.context, table.name)
        return StatusMappingPayload(table=_table(table, history), reevaluated_orders=len(touched), errors=errors)

    @strawberry.mutation(description="Run a quarantined payload through intake again, e.g. after fixing a mapping (admin).")
    async def replay_quarantined(self, info: Info, id: strawberry.ID) -> ReplayPayload:
        result, errors = await attempt(lambda: intake_resolvers.replay(info.context, id))
        if result is None:
            return ReplayPayload(item=None, http_status=None, outcome=None, response=None, errors=errors)
        row, answer = result
        return ReplayPayload(item=QuarantinedPayload.from_row(row), http_status=answer.http_status,
                             outcome=answer.outcome, response=answer.body, errors=[])

    @strawberry.mutation(description="Give up on a quarantined payload, saying why (admin).")
    async def discard_quarantined(self, info: Info, id: strawberry.ID, reason: str) -> DiscardPayload:
        row, errors = await attempt(lambda: intake_resolvers.discard(info.context, id, reason))
        return DiscardPayload(item=QuarantinedPayload.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Import orders from a CSV/XLSX file with the channel's mapping (admin). "
                                     "Re-running the same file resumes it and changes nothing already imported.")
    async def import_orders(self, info: Info, input: ImportOrdersInput) -> ImportPayload:
        settings = _settings(info)
        import_dir = getattr(settings, "import_dir", "var/imports")
        batch = getattr(settings, "import_batch_size", 1000)
        row, errors = await attempt(lambda: intake_resolvers.start_import(
            info.context, input.channel, input.file_name, input.content_base64, input.server_path, input.format,
            input.encoding, input.wait, import_dir, batch))
        return ImportPayload(run=ImportRun.from_row(row) if row else None, errors=errors)
