"""Admin GraphQL for intake: channels and their mappings, carrier accounts, status tables, quarantine, imports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain import statuses
from domain.inbound.tracking_api import redacted
from resolvers import ids
from resolvers import intake as intake_resolvers
from schema.connections import AFTER_ARGUMENT, PAGE_ARGUMENT, Connection
from schema.enums import OrderStatus, PaymentStatus, ShipmentStatus
from schema.errors import UserError, attempt
from schema.enum_values import describe_values

AfterSaleStatus = describe_values(strawberry.enum(statuses.AfterSaleStatus, description="After-sale (refund / return / exchange) status."), {
    "REQUESTED": "The buyer (or service) asked; waiting for a decision.",
    "APPROVED": "Accepted; a refund-only request goes on to be refunded.",
    "REJECTED": "Refused, with a reason; it can only be closed next.",
    "AWAITING_RETURN": "Accepted; waiting for the buyer's parcel to come back.",
    "RECEIVED": "The returned parcel arrived at the warehouse (units go to quarantine).",
    "REFUNDED": "The money went back to the buyer.",
    "EXCHANGED": "The replacement order was created.",
    "CLOSED": "Finished or withdrawn; nothing more will happen (final).",
})

_SECRET_HEADERS = frozenset({"x-shopify-hmac-sha256", "webhook-signature", "aftership-hmac-sha256"})


def _settings(info: Info) -> Any:
    request = info.context.request
    return getattr(getattr(getattr(request, "app", None), "state", None), "settings", None)


@strawberry.type(description="A sales channel as intake sees it: kind, whether it can verify webhooks, its mapping.")
class IntakeChannel:
    id: strawberry.ID = strawberry.field(description="The channel's global id (a `Channel` node).")
    code: str = strawberry.field(description="The merchant's short code for the shop, unique per tenant.")
    kind: str = strawberry.field(
        description="The platform: shopify, taobao, pinduoduo, douyin, wechat_channels, amazon or generic.")
    name: str = strawberry.field(description="The shop's display name.")
    has_secret: bool = strawberry.field(
        description="Whether a webhook signing secret is stored (the secret itself is never shown).")
    mapping: JSON | None = strawberry.field(
        description="The generic channel's JMESPath field mapping; null for native platforms.")
    import_mapping: JSON | None = strawberry.field(
        description="The column mapping for CSV/XLSX imports, when it differs from `mapping`; null otherwise.")
    hook_path: str = strawberry.field(description="Where the channel posts, relative to this server.")

    @classmethod
    def from_row(cls, row: Any, tenant_slug: str) -> IntakeChannel:
        config = row.config or {}
        return cls(id=strawberry.ID(ids.encode("Channel", row.id)), code=row.code, kind=row.kind, name=row.name,
                   has_secret=bool(row.secret), mapping=config.get("mapping"), import_mapping=config.get("import_mapping"),
                   hook_path=f"/hooks/{tenant_slug}/{row.code}")


@strawberry.type(description="The result of registering or changing a channel.")
class IntakeChannelPayload:
    channel: IntakeChannel | None = strawberry.field(description="The channel as stored; null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(
        description="Why nothing changed (FORBIDDEN for roles other than admin); empty on success.")


@strawberry.type(description="An account with a tracking provider; the key itself is never shown.")
class CarrierAccount:
    provider: str = strawberry.field(description="The tracking provider: kdniao, kuaidi100 or aftership.")
    config: JSON = strawberry.field(description="The provider's non-secret settings (secret values redacted).")
    has_secret: bool = strawberry.field(description="Whether the signing secret is stored (it is never shown).")
    hook_path: str = strawberry.field(description="Where the provider posts tracking pushes, relative to this server.")


@strawberry.type(description="The result of saving a tracking provider account.")
class CarrierAccountPayload:
    account: CarrierAccount | None = strawberry.field(description="The account as stored; null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type(description="How one raw code is read. `origin` is `default` (shipped) or `tenant` (your override).")
class StatusMappingEntry:
    code: str = strawberry.field(description="The source's raw status code, verbatim.")
    order: OrderStatus | None = strawberry.field(
        description="The order status the code maps to; null if it says nothing about the order.")
    payment: PaymentStatus | None = strawberry.field(description="The payment status the code maps to; null if none.")
    after_sale: AfterSaleStatus | None = strawberry.field(
        description="The after-sale status the code maps to; null if none.")
    shipment: ShipmentStatus | None = strawberry.field(description="The shipment status the code maps to; null if none.")
    unmapped: bool = strawberry.field(
        description="true: the code is deliberately left unmapped (orders with it are not held for it).")
    origin: str = strawberry.field(description="`default` (shipped with OrderGraph) or `tenant` (your override).")


@strawberry.type(description="One saved version of a status mapping table.")
class StatusMappingVersion:
    version: int = strawberry.field(description="The version number, from 1.")
    changed_by: str = strawberry.field(description="Who saved it.")
    reason: str = strawberry.field(description="Why, as given when saving.")
    created_at: datetime = strawberry.field(description="When it was saved (UTC).")
    entries: JSON = strawberry.field(description="The overrides of this version, by code (JSON object).")


@strawberry.type(description="A status mapping table: defaults plus this tenant's overrides, at `version` (0 = defaults).")
class StatusMappingTable:
    name: str = strawberry.field(description="The table's name, e.g. `taobao`, `taobao.refund_status`, `kdniao`.")
    kind: str = strawberry.field(
        description="`order` (its codes map to order, payment and after-sale statuses) or `shipment` (carrier tracking codes).")
    version: int = strawberry.field(description="Your current version; 0 = only the shipped defaults.")
    entries: list[StatusMappingEntry] = strawberry.field(
        description="Every code the table knows, defaults and overrides, by code.")
    history: list[StatusMappingVersion] = strawberry.field(description="Your saved versions, newest first.")


@strawberry.type(description="The result of saving status mappings.")
class StatusMappingPayload:
    table: StatusMappingTable | None = strawberry.field(
        description="The table as it is now; null when `errors` is not empty.")
    reevaluated_orders: int = strawberry.field(description="Orders held for a code this save maps, re-read now.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type(description="An inbound payload that could not be applied, kept for inspection and replay.")
class QuarantinedPayload:
    id: strawberry.ID = strawberry.field(description="The quarantined payload's global id.")
    kind: str = strawberry.field(description="What kind of message it is (e.g. an order or a tracking push).")
    source: str = strawberry.field(description="Where it came from: the channel, provider or system and its endpoint.")
    reason_code: str = strawberry.field(description="Why it was refused, as a stable code.")
    reason: str = strawberry.field(description="Why it was refused, in words.")
    field: str = strawberry.field(description="The payload field at fault, if known; else empty.")
    http_status: int = strawberry.field(description="The HTTP status the sender was answered with.")
    verified: bool = strawberry.field(
        description="Whether its signature was checked on arrival (an unknown channel's cannot be; it is checked on replay).")
    status: str = strawberry.field(description="open, replayed or discarded.")
    seen_count: int = strawberry.field(description="How many times the same payload arrived.")
    attempts: int = strawberry.field(description="Replays that failed so far.")
    last_error: str = strawberry.field(description="The last replay's error (`code: reason`); empty if none.")
    outcome: JSON | None = strawberry.field(description="What the successful replay did (JSON); null until replayed.")
    first_seen_at: datetime = strawberry.field(description="When it first arrived (UTC).")
    last_seen_at: datetime = strawberry.field(description="When it last arrived (UTC).")
    resolved_at: datetime | None = strawberry.field(description="When it was replayed or discarded (UTC); null while open.")
    payload_sha256: str = strawberry.field(
        description="SHA-256 of the raw body (hex); lineage refers to it as `sha256:<hex>`.")
    content_type: str = strawberry.field(description="The body's Content-Type as received.")
    size: int = strawberry.field(description="The body's size in bytes.")
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


@strawberry.type(description="The result of replaying a quarantined payload.")
class ReplayPayload:
    item: QuarantinedPayload | None = strawberry.field(
        description="The quarantined payload as it is now; null when `errors` is not empty.")
    http_status: int | None = strawberry.field(description="The status intake answered the replay with; null on error.")
    outcome: str | None = strawberry.field(description="What intake did, in one word; null on error.")
    response: JSON | None = strawberry.field(description="Intake's full answer (JSON); null on error.")
    errors: list[UserError] = strawberry.field(description="Why it was not replayed; empty otherwise.")


@strawberry.type(description="The result of discarding a quarantined payload.")
class DiscardPayload:
    item: QuarantinedPayload | None = strawberry.field(
        description="The quarantined payload as it is now; null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(description="Why it was not discarded; empty otherwise.")


@strawberry.type(description="A row of an import file that was refused.")
class ImportRowError:
    row: int = strawberry.field(description="Spreadsheet row number; the header is row 1.")
    field: str = strawberry.field(description="The column at fault (the mapped field name).")
    message: str = strawberry.field(description="Why the row was refused.")


@strawberry.type(description="One import of a file into a channel; re-running the same file resumes it.")
class ImportRun:
    id: strawberry.ID = strawberry.field(description="The import's global id.")
    file_name: str = strawberry.field(description="The file's name as given.")
    format: str = strawberry.field(description="csv or xlsx.")
    status: str = strawberry.field(description="running, done or interrupted (re-run the file to resume).")
    total_rows: int = strawberry.field(description="Data rows in the file.")
    rows_done: int = strawberry.field(description="Rows read so far (applied or refused).")
    rows_failed: int = strawberry.field(description="Rows refused; see `errors`.")
    orders_created: int = strawberry.field(description="Orders created by this import.")
    orders_updated: int = strawberry.field(description="Existing orders changed by this import.")
    orders_unchanged: int = strawberry.field(description="Rows that matched an existing order without changing it.")
    next_row: int = strawberry.field(description="The spreadsheet row to resume at (the header is row 1).")
    message: str = strawberry.field(description="The run's last message (e.g. why it was interrupted); may be empty.")
    file_sha256: str = strawberry.field(description="SHA-256 of the file (hex); the same file resumes this run.")
    started_at: datetime = strawberry.field(description="When the import started (UTC).")
    finished_at: datetime | None = strawberry.field(description="When it finished (UTC); null while running or interrupted.")
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

    @strawberry.field(description="Refused rows, in row order, a page at a time.")
    async def errors(
        self, info: Info, first: Annotated[int, strawberry.argument(description=PAGE_ARGUMENT)] = 100,
        after: Annotated[str | None, strawberry.argument(description=AFTER_ARGUMENT)] = None,
    ) -> ImportRowErrorConnection:
        page = await intake_resolvers.import_errors(info.context, self.pk, first, after)
        return ImportRowErrorConnection.of(page, lambda r: ImportRowError(row=r.row, field=r.field, message=r.message))


@strawberry.type(description="An import's refused rows, in row order, a page at a time.")
class ImportRowErrorConnection(Connection[ImportRowError]):
    pass


@strawberry.type(description="Quarantined payloads, newest first, a page at a time.")
class QuarantinedPayloadConnection(Connection[QuarantinedPayload]):
    pass


@strawberry.type(description="Imports, newest first, a page at a time.")
class ImportRunConnection(Connection[ImportRun]):
    pass


@strawberry.type(description="The result of an import.")
class ImportPayload:
    run: ImportRun | None = strawberry.field(description="The import run; null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(description="Why the file was not imported; empty otherwise.")


@strawberry.type(description="What the channel last said about an order, raw and as mapped.")
class ChannelOrderState:
    source: str = strawberry.field(description="The channel or endpoint that said it.")
    status_code: str = strawberry.field(description="The channel's own status code, verbatim.")
    extra_codes: JSON = strawberry.field(
        description="The channel's other codes (refund, logistics …), by name (JSON object).")
    mapped: JSON = strawberry.field(
        description="What the codes were read as (order, payment, after-sale statuses; JSON object).")
    unmapped: list[str] = strawberry.field(description="Codes no mapping knows (the order is held for them).")
    after_sale: JSON = strawberry.field(description="The channel's after-sale state of the order (JSON object).")
    source_updated_at: datetime = strawberry.field(
        description="When the channel last changed the order, per the channel (UTC).")
    payload_sha256: str = strawberry.field(description="SHA-256 of the payload that said it (hex).")


@strawberry.input(description="A new sales channel.")
class RegisterChannelInput:
    code: str = strawberry.field(description="A short code for the shop, unique per tenant (it appears in webhook paths).")
    kind: str = strawberry.field(description="shopify, taobao, pinduoduo, douyin, wechat_channels, amazon or generic.")
    name: str = strawberry.field(description="The shop's display name.")
    secret: str | None = strawberry.field(default=None, description="Webhook signing secret (16+ characters).")
    mapping: JSON | None = strawberry.field(default=None, description="Generic JMESPath field mapping (required for generic).")


@strawberry.input(description="Changes to a channel; omitted fields stay as they are.")
class UpdateChannelInput:
    code: str = strawberry.field(description="The channel's code.")
    name: str | None = strawberry.field(default=None, description="A new display name.")
    secret: str | None = strawberry.field(default=None, description="A new secret (rotation).")
    mapping: JSON | None = strawberry.field(default=None, description="A new generic JMESPath field mapping (validated).")
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


@strawberry.input(description="An account with a tracking provider.")
class CarrierAccountInput:
    provider: str = strawberry.field(description="kdniao, kuaidi100 or aftership.")
    secret: str = strawberry.field(description="Kdniao AppKey, Kuaidi100 salt or AfterShip webhook secret.")
    config: JSON | None = strawberry.field(default=None, description='e.g. {"ebusiness_id": "1237100"} for Kdniao.')


@strawberry.input(description="How to read one raw code; give the statuses it means, or `unmapped: true`.")
class StatusMappingEntryInput:
    code: str = strawberry.field(description="The source's raw status code, verbatim.")
    order: OrderStatus | None = strawberry.field(default=None, description="The order status it means, if any.")
    payment: PaymentStatus | None = strawberry.field(default=None, description="The payment status it means, if any.")
    after_sale: AfterSaleStatus | None = strawberry.field(default=None, description="The after-sale status it means, if any.")
    shipment: ShipmentStatus | None = strawberry.field(default=None, description="The shipment status it means, if any.")
    unmapped: bool = strawberry.field(default=False, description="Deliberately leave this code unmapped.")


@strawberry.input(description="Codes to save in a status mapping table, as a new version.")
class SaveStatusMappingInput:
    table: str = strawberry.field(description="e.g. taobao, taobao.refund_status, kdniao, or a generic source name.")
    entries: list[StatusMappingEntryInput] = strawberry.field(description="The codes to add or change (others keep their mapping).", default_factory=list)
    remove: list[str] = strawberry.field(default_factory=list, description="Codes to return to the default.")
    reason: str = strawberry.field(default="", description="Why, recorded with the version.")


@strawberry.input(description="A CSV/XLSX file of orders to import into a channel; give the file as `contentBase64` or `serverPath`.")
class ImportOrdersInput:
    channel: str = strawberry.field(description="The channel's code.")
    file_name: str | None = strawberry.field(default=None, description="The file's name (its extension may tell the format).")
    content_base64: str | None = strawberry.field(default=None, description="The file, base64-encoded (up to 50 MiB).")
    server_path: str | None = strawberry.field(default=None, description="A file under ORDERGRAPH_IMPORT_DIR.")
    format: str | None = strawberry.field(default=None, description="csv or xlsx (default: from the name or content).")
    encoding: str = strawberry.field(default="utf-8", description="The text encoding of a CSV file; utf-8 by default.")
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
    async def status_mapping(self, info: Info, table: Annotated[str, strawberry.argument(description="The table's name (see `statusMappingTables`).")]) -> StatusMappingTable:
        found, history = await intake_resolvers.table(info.context, table)
        return _table(found, history)

    @strawberry.field(description="Quarantined inbound payloads, newest first, a page at a time (admin). status: open, "
                                  "replayed, discarded.")
    async def quarantine(
        self, info: Info, status: Annotated[str | None, strawberry.argument(description="open (default), replayed or discarded; null for all.")] = "open",
        first: Annotated[int, strawberry.argument(description=PAGE_ARGUMENT)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_ARGUMENT)] = None,
    ) -> QuarantinedPayloadConnection:
        page = await intake_resolvers.quarantined(info.context, status, first, after)
        return QuarantinedPayloadConnection.of(page, QuarantinedPayload.from_row)

    @strawberry.field(description="One quarantined payload with its raw body (admin).")
    async def quarantined_payload(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The quarantined payload's id.")]) -> QuarantinedPayload:
        return QuarantinedPayload.from_row(await intake_resolvers.quarantined_one(info.context, id))

    @strawberry.field(description="One import by id (admin); null if there is none.")
    async def import_run(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The import's id.")]) -> ImportRun | None:
        row = await intake_resolvers.import_run(info.context, id)
        return ImportRun.from_row(row) if row else None

    @strawberry.field(description="Imports, newest first, a page at a time (admin).")
    async def import_runs(
        self, info: Info, first: Annotated[int, strawberry.argument(description=PAGE_ARGUMENT)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_ARGUMENT)] = None,
    ) -> ImportRunConnection:
        return ImportRunConnection.of(await intake_resolvers.import_runs(info.context, first, after), ImportRun.from_row)

    @strawberry.field(description="What the channel last said about an order (admin).")
    async def channel_order_state(self, info: Info, order_id: Annotated[strawberry.ID, strawberry.argument(description="The order's id.")]) -> ChannelOrderState | None:
        row = await intake_resolvers.channel_state(info.context, order_id)
        if row is None:
            return None
        return ChannelOrderState(source=row.source, status_code=row.status_code, extra_codes=row.extra_codes,
                                 mapped=row.mapped, unmapped=list(row.unmapped), after_sale=row.after_sale,
                                 source_updated_at=row.source_updated_at, payload_sha256=row.payload_sha256)


@strawberry.type
class IntakeMutation:
    @strawberry.mutation(description="Register a channel whose webhooks will be accepted (admin). A generic mapping is validated.")
    async def register_channel(self, info: Info, input: Annotated[RegisterChannelInput, strawberry.argument(description="The channel.")]) -> IntakeChannelPayload:
        row, errors = await attempt(lambda: intake_resolvers.register_channel(
            info.context, input.code, input.kind, input.name, input.secret, input.mapping))
        return IntakeChannelPayload(channel=IntakeChannel.from_row(row, await _slug(info)) if row else None, errors=errors)

    @strawberry.mutation(description="Change a channel's name, secret or mappings (admin).")
    async def update_channel(self, info: Info, input: Annotated[UpdateChannelInput, strawberry.argument(description="The channel's code and what to change.")]) -> IntakeChannelPayload:
        row, errors = await attempt(lambda: intake_resolvers.update_channel(
            info.context, input.code, input.name, input.secret, input.mapping, input.import_mapping, input.api_account,
            input.polling))
        return IntakeChannelPayload(channel=IntakeChannel.from_row(row, await _slug(info)) if row else None, errors=errors)

    @strawberry.mutation(description="Create or replace the account of a tracking provider (admin).")
    async def save_carrier_account(self, info: Info, input: Annotated[CarrierAccountInput, strawberry.argument(description="The provider and its secret.")]) -> CarrierAccountPayload:
        row, errors = await attempt(lambda: intake_resolvers.save_carrier_account(
            info.context, input.provider, input.secret, input.config))
        account = None
        if row is not None:
            account = CarrierAccount(provider=row.provider, config=redacted(row.config), has_secret=True,
                                     hook_path=f"/hooks/{await _slug(info)}/carrier/{row.provider}")
        return CarrierAccountPayload(account=account, errors=errors)

    @strawberry.mutation(description="Save codes of a status mapping table as a new version (admin); "
                                     "orders held for codes it now maps are re-read.")
    async def save_status_mapping(self, info: Info, input: Annotated[SaveStatusMappingInput, strawberry.argument(description="The table and its codes.")]) -> StatusMappingPayload:
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
    async def replay_quarantined(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The quarantined payload's id.")]) -> ReplayPayload:
        result, errors = await attempt(lambda: intake_resolvers.replay(info.context, id))
        if result is None:
            return ReplayPayload(item=None, http_status=None, outcome=None, response=None, errors=errors)
        row, answer = result
        return ReplayPayload(item=QuarantinedPayload.from_row(row), http_status=answer.http_status,
                             outcome=answer.outcome, response=answer.body, errors=[])

    @strawberry.mutation(description="Give up on a quarantined payload, saying why (admin).")
    async def discard_quarantined(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The quarantined payload's id.")], reason: Annotated[str, strawberry.argument(description="Why, recorded with it.")]) -> DiscardPayload:
        row, errors = await attempt(lambda: intake_resolvers.discard(info.context, id, reason))
        return DiscardPayload(item=QuarantinedPayload.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Import orders from a CSV/XLSX file with the channel's mapping (admin). "
                                     "Re-running the same file resumes it and changes nothing already imported.")
    async def import_orders(self, info: Info, input: Annotated[ImportOrdersInput, strawberry.argument(description="The file and its channel.")]) -> ImportPayload:
        settings = _settings(info)
        import_dir = getattr(settings, "import_dir", "var/imports")
        batch = getattr(settings, "import_batch_size", 1000)
        row, errors = await attempt(lambda: intake_resolvers.start_import(
            info.context, input.channel, input.file_name, input.content_base64, input.server_path, input.format,
            input.encoding, input.wait, import_dir, batch))
        return ImportPayload(run=ImportRun.from_row(row) if row else None, errors=errors)
