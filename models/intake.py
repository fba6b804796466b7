"""Intake bookkeeping: raw evidence, de-duplication, status mapping tables, quarantine, imports.

Everything a channel, carrier or file sends is kept here before (and whether or
not) it changes an order, so lineage can point at exactly what arrived.
"""

from tortoise import fields
from tortoise.models import Model

from models.sealing import SealedJSONField, SealedTextField


class InboundPayload(Model):
    """One distinct body a tenant received, addressed by the SHA-256 of its bytes.

    The same bytes arriving twice share one row. ``headers`` keeps only the
    headers that matter (signatures, delivery ids, topic, content type) as
    they came with the first arrival.
    """

    id = fields.BigIntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="inbound_payloads", on_delete=fields.CASCADE)
    sha256 = fields.CharField(max_length=64)
    kind = fields.CharField(max_length=16)
    source = fields.CharField(max_length=64)
    content_type = fields.CharField(max_length=128, default="")
    headers = fields.JSONField(default=dict)
    body = fields.BinaryField()
    size = fields.IntField()
    received_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "inbound_payload"
        unique_together = (("tenant", "sha256"),)


class InboundDelivery(Model):
    """A delivery id a source stamped on a push (a Shopify webhook id), seen once and committed.

    The row is written in the same transaction that applies the delivery, so
    a delivery that failed half-way leaves no row and its retry is applied.
    """

    id = fields.BigIntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="inbound_deliveries", on_delete=fields.CASCADE)
    source = fields.CharField(max_length=80)
    delivery_id = fields.CharField(max_length=128)
    payload_sha256 = fields.CharField(max_length=64, default="")
    received_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "inbound_delivery"
        unique_together = (("tenant", "source", "delivery_id"),)


class ChannelOrderState(Model):
    """What the channel last said about an order, raw and mapped, so the next update can be compared.

    ``unmapped`` lists the codes no mapping table knew (``table:code``), which
    keep the order held and alerted until a mapping is saved for them.
    """

    id = fields.IntField(primary_key=True)
    order = fields.OneToOneField("models.Order", related_name="channel_state", on_delete=fields.CASCADE)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="channel_states", on_delete=fields.CASCADE)
    source = fields.CharField(max_length=64)
    status_code = fields.CharField(max_length=64)
    extra_codes = fields.JSONField(default=dict)
    mapped = fields.JSONField(default=dict)
    unmapped = fields.JSONField(default=list)
    after_sale = fields.JSONField(default=dict)
    lines_digest = fields.CharField(max_length=64, default="")
    address_digest = fields.CharField(max_length=64, default="")
    #: Fingerprint of the whole normalised order, so a changed payload with the same source time is not a duplicate.
    content_digest = fields.CharField(max_length=64, default="")
    source_updated_at = fields.DatetimeField()
    payload_sha256 = fields.CharField(max_length=64, default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "channel_order_state"


class StatusMappingTable(Model):
    """Overrides of one status mapping table for a tenant, at its current version.

    ``entries`` maps a raw code to an entry (``{"order": ..., "payment": ...}``
    or ``{"shipment": ...}``), or to null to unmap a default code on purpose.
    Codes not listed fall back to the shipped defaults.
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="status_tables", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=64)
    version = fields.IntField(default=0)
    entries = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "status_mapping_table"
        unique_together = (("tenant", "name"),)


class StatusMappingVersion(Model):
    """Every saved version of a tenant status table, immutable, for lineage and audit."""

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="status_table_versions", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=64)
    version = fields.IntField()
    entries = fields.JSONField(default=dict)
    changed_by = fields.CharField(max_length=100)
    reason = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "status_mapping_version"
        unique_together = (("tenant", "name", "version"),)


class QuarantinedPayload(Model):
    """An inbound payload that could not be applied, kept for an admin to inspect, fix and replay.

    ``verified`` says whether its signature was checked on arrival (a payload
    for an unknown channel cannot be, and is checked when replayed).
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="quarantined_payloads", on_delete=fields.CASCADE)
    payload = fields.ForeignKeyField("models.InboundPayload", related_name="quarantine", on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=16)
    source = fields.CharField(max_length=64)
    reason_code = fields.CharField(max_length=32)
    reason = fields.CharField(max_length=500)
    field = fields.CharField(max_length=200, default="")
    http_status = fields.IntField(default=422)
    verified = fields.BooleanField(default=False)
    status = fields.CharField(max_length=16, default="open")
    seen_count = fields.IntField(default=1)
    attempts = fields.IntField(default=0)
    last_error = fields.CharField(max_length=500, default="")
    outcome = fields.JSONField(null=True)
    resolved_by = fields.CharField(max_length=100, default="")
    first_seen_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField(auto_now_add=True)
    resolved_at = fields.DatetimeField(null=True)

    class Meta:
        table = "quarantined_payload"
        unique_together = (("tenant", "kind", "source", "payload"),)
        indexes = (("tenant_id", "status", "id"),)


class CarrierAccount(Model):
    """A tenant account with a tracking provider: the secret its pushes are signed with.

    ``config`` holds the provider's API credentials (``adapters.carriers.api``), so it is sealed as a whole.
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="carrier_accounts", on_delete=fields.CASCADE)
    provider = fields.CharField(max_length=32)
    secret = SealedTextField()
    config = SealedJSONField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "carrier_account"
        unique_together = (("tenant", "provider"),)


class IdempotencyRecord(Model):
    """A mutation request answered under an Idempotency-Key, so a retry gets the first answer back.

    Scoped to the tenant and the API key (``key_scope`` is the SHA-256 of the
    key). ``state`` is in_flight until the first response is stored.
    """

    id = fields.BigIntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="idempotency_records", on_delete=fields.CASCADE)
    key_scope = fields.CharField(max_length=64)
    key = fields.CharField(max_length=255)
    fingerprint = fields.CharField(max_length=64)
    state = fields.CharField(max_length=16, default="in_flight")
    status_code = fields.IntField(null=True)
    response_headers = fields.JSONField(default=list)
    response_body = fields.BinaryField(null=True)
    created_at = fields.DatetimeField()
    locked_until = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "idempotency_record"
        unique_together = (("tenant", "key_scope", "key"),)


class ImportRun(Model):
    """One bulk import of a file into a channel. Re-running the same file resumes at ``next_row``."""

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="import_runs", on_delete=fields.CASCADE)
    channel = fields.ForeignKeyField("models.Channel", related_name="import_runs", on_delete=fields.CASCADE)
    payload = fields.ForeignKeyField("models.InboundPayload", related_name="import_runs", null=True, on_delete=fields.SET_NULL)
    file_name = fields.CharField(max_length=255)
    file_sha256 = fields.CharField(max_length=64)
    format = fields.CharField(max_length=8)
    status = fields.CharField(max_length=16, default="running")
    total_rows = fields.IntField(default=0)
    next_row = fields.IntField(default=2)
    rows_done = fields.IntField(default=0)
    orders_created = fields.IntField(default=0)
    orders_updated = fields.IntField(default=0)
    orders_unchanged = fields.IntField(default=0)
    rows_failed = fields.IntField(default=0)
    message = fields.CharField(max_length=500, default="")
    started_by = fields.CharField(max_length=100, default="")
    started_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "import_run"
        unique_together = (("tenant", "channel", "file_sha256"),)


class ImportRowError(Model):
    """A refused row of an import: its spreadsheet row number (the header is row 1), field and reason."""

    id = fields.IntField(primary_key=True)
    run = fields.ForeignKeyField("models.ImportRun", related_name="row_errors", on_delete=fields.CASCADE)
    row = fields.IntField()
    field = fields.CharField(max_length=200, default="")
    message = fields.CharField(max_length=500)

    class Meta:
        table = "import_row_error"
        unique_together = (("run", "row"),)
