"""The merchant's other systems (ERP, WMS), what we sent them, what they answered, and when we stopped trusting one."""

from tortoise import fields
from tortoise.models import Model

from models.sealing import SealedJSONField


class SystemConnection(Model):
    """One ERP or WMS the tenant runs, and how to reach it.

    ``adapter`` names the wire format (``qimen``, ``rest_wms``, ``kingdee``,
    ``rest_erp``); ``config`` holds its URL, credentials and, for the REST
    kinds, the JMESPath field maps. Warehouses point at their WMS; the ERP is
    the tenant's connection of kind ``erp``.
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="system_connections", on_delete=fields.CASCADE)
    code = fields.CharField(max_length=32)
    kind = fields.CharField(max_length=8)
    adapter = fields.CharField(max_length=24)
    name = fields.CharField(max_length=200, default="")
    config = SealedJSONField()
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "system_connection"
        unique_together = (("tenant", "code"),)


class WarehouseSystems(Model):
    """Which WMS runs a warehouse and the codes the WMS and the ERP know it by, and the stock-drift breaker.

    The breaker opens (allocation from the warehouse pauses) when ERP and WMS
    on-hand differ by more than the tenant's threshold, and closes after the
    difference stayed under it for the configured time or by a person.
    """

    id = fields.IntField(primary_key=True)
    warehouse = fields.OneToOneField("models.Warehouse", related_name="systems", on_delete=fields.CASCADE)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="warehouse_systems", on_delete=fields.CASCADE)
    wms = fields.ForeignKeyField("models.SystemConnection", related_name="warehouses", null=True,
                                 on_delete=fields.SET_NULL)
    wms_warehouse_code = fields.CharField(max_length=64, default="")
    erp_warehouse_code = fields.CharField(max_length=64, default="")
    owner_code = fields.CharField(max_length=64, default="")
    breaker_open = fields.BooleanField(default=False)
    breaker_reason = fields.CharField(max_length=500, default="")
    breaker_details = fields.JSONField(default=dict)
    breaker_opened_at = fields.DatetimeField(null=True)
    drift_below_since = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "warehouse_systems"


class DeliveryOrder(Model):
    """An order's lines of one warehouse as a WMS delivery order: pushed once, by its code, and followed to the end.

    ``code`` is the idempotency key the WMS sees (``OG000000042-SH``); a retry
    sends the same code, so the WMS can never hold two. ``status``:
    ``pending`` → ``pushed`` → ``confirmed`` (shipped), or ``cancel_pending``
    → ``cancelled`` / ``cancel_refused``; ``failed`` after the retries ran out.
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="delivery_orders", on_delete=fields.CASCADE)
    order = fields.ForeignKeyField("models.Order", related_name="delivery_orders", on_delete=fields.CASCADE)
    warehouse = fields.ForeignKeyField("models.Warehouse", related_name="delivery_orders", on_delete=fields.CASCADE)
    connection = fields.ForeignKeyField("models.SystemConnection", related_name="delivery_orders",
                                        on_delete=fields.CASCADE)
    code = fields.CharField(max_length=64)
    status = fields.CharField(max_length=16, default="pending")
    wms_order_id = fields.CharField(max_length=64, default="")
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    lease_until = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, default="")
    event_id = fields.BigIntField(null=True)
    pushed_at = fields.DatetimeField(null=True)
    confirmed_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    swept_at = fields.DatetimeField(null=True, description="When the confirmation sweep last asked the WMS about it.")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "delivery_order"
        unique_together = (("tenant", "code"),)
        indexes = (("status", "next_attempt_at"), ("order_id",))


class SystemExchange(Model):
    """One request to (or callback from) an ERP or WMS and its answer, redacted: the evidence lineage links to.

    ``outcome`` is ``ok``, ``error`` (5xx, refused, malformed), ``timeout``,
    ``unreachable`` or ``disagreed`` (answered, but contradicts what we know);
    the cross-system failure rate counts everything but ``ok``.
    """

    id = fields.BigIntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="system_exchanges", on_delete=fields.CASCADE)
    connection = fields.ForeignKeyField("models.SystemConnection", related_name="exchanges", null=True,
                                        on_delete=fields.SET_NULL)
    system = fields.CharField(max_length=8)
    operation = fields.CharField(max_length=48)
    direction = fields.CharField(max_length=8, default="out")
    order = fields.ForeignKeyField("models.Order", related_name="system_exchanges", null=True,
                                   on_delete=fields.SET_NULL)
    method = fields.CharField(max_length=8, default="POST")
    url = fields.CharField(max_length=500, default="")
    request_body = fields.TextField(default="")
    status_code = fields.IntField(null=True)
    response_body = fields.TextField(default="")
    outcome = fields.CharField(max_length=16)
    error = fields.CharField(max_length=500, default="")
    elapsed_ms = fields.FloatField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "system_exchange"
        indexes = (("tenant_id", "created_at"), ("order_id",), ("connection_id", "created_at"))
