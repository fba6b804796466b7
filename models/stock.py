"""Stock commitments: the movement ledger, reservations, quarantine, allocation policy and decisions.

Levels live on ``Stock`` (models/warehouse.py). Every change to them is also a
``StockMovement`` row, so the levels can always be re-derived from the ledger.
"""

from tortoise import fields
from tortoise.models import Model


class StockMovement(Model):
    """One immutable change to the levels of one (warehouse, SKU), with who, why and for which order.

    Summing the deltas of all rows of a stock row gives its on_hand, reserved
    and quarantine levels.
    """

    id = fields.BigIntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="stock_movements", on_delete=fields.CASCADE)
    stock = fields.ForeignKeyField("models.Stock", related_name="movements", on_delete=fields.CASCADE)
    warehouse = fields.ForeignKeyField("models.Warehouse", related_name="stock_movements", on_delete=fields.CASCADE)
    sku = fields.CharField(max_length=64)
    kind = fields.CharField(max_length=24)
    on_hand_delta = fields.IntField(default=0)
    reserved_delta = fields.IntField(default=0)
    quarantine_delta = fields.IntField(default=0)
    order = fields.ForeignKeyField("models.Order", related_name="stock_movements", null=True, on_delete=fields.CASCADE)
    line_id = fields.IntField(null=True)
    reservation_id = fields.IntField(null=True)
    actor = fields.CharField(max_length=100)
    source = fields.CharField(max_length=48)
    reason = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "stock_movement"
        indexes = (("stock_id", "id"), ("order_id", "id"), ("tenant_id", "id"))


class Reservation(Model):
    """Units of one stock row promised to one order line.

    ``line_slot`` holds the line id while the reservation is ACTIVE or CONSUMED
    and is unique, so the database itself refuses a second live reservation
    for a line: a line is allocated to exactly one warehouse.
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="reservations", on_delete=fields.CASCADE)
    order = fields.ForeignKeyField("models.Order", related_name="reservations", on_delete=fields.CASCADE)
    line = fields.ForeignKeyField("models.OrderLine", related_name="reservations", on_delete=fields.CASCADE)
    warehouse = fields.ForeignKeyField("models.Warehouse", related_name="reservations", on_delete=fields.CASCADE)
    stock = fields.ForeignKeyField("models.Stock", related_name="reservations", on_delete=fields.CASCADE)
    sku = fields.CharField(max_length=64)
    quantity = fields.IntField()
    status = fields.CharField(max_length=16)
    kind = fields.CharField(max_length=16)
    expires_at = fields.DatetimeField(null=True)
    line_slot = fields.IntField(null=True, unique=True)
    picker = fields.CharField(max_length=100, null=True)
    pick_claimed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    closed_at = fields.DatetimeField(null=True)
    close_reason = fields.CharField(max_length=500, default="")

    class Meta:
        table = "reservation"
        indexes = (("stock_id", "status"), ("warehouse_id", "status"), ("order_id", "status"), ("status", "kind", "expires_at"))


class Quarantine(Model):
    """Returned units waiting for inspection in one warehouse: counted, but not sellable."""

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="quarantine", on_delete=fields.CASCADE)
    stock = fields.OneToOneField("models.Stock", related_name="quarantine", on_delete=fields.CASCADE)
    quantity = fields.IntField(default=0)

    class Meta:
        table = "stock_quarantine"


class SkuStockPolicy(Model):
    """Per SKU knobs: the low-stock alert fires when available is at most safety times this factor."""

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="sku_stock_policies", on_delete=fields.CASCADE)
    sku = fields.CharField(max_length=64)
    low_stock_factor = fields.DecimalField(max_digits=6, decimal_places=2)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "sku_stock_policy"
        unique_together = (("tenant", "sku"),)


class AllocationPolicy(Model):
    """How a tenant (or one of its channels) picks warehouses, as validated JSON.

    ``scope`` is the literal tenant for the default or channel followed by the
    channel id, so the pair (tenant, scope) is unique without nullable keys.
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="allocation_policies", on_delete=fields.CASCADE)
    scope = fields.CharField(max_length=32)
    channel = fields.ForeignKeyField("models.Channel", related_name="allocation_policies", null=True, on_delete=fields.CASCADE)
    config = fields.JSONField()
    version = fields.IntField(default=1)
    updated_by = fields.CharField(max_length=100, default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "allocation_policy"
        unique_together = (("tenant", "scope"),)


class AllocationDecision(Model):
    """Why an order went where it went: the candidates considered and why each lost. Append-only."""

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="allocation_decisions", on_delete=fields.CASCADE)
    order = fields.ForeignKeyField("models.Order", related_name="allocation_decisions", on_delete=fields.CASCADE)
    strategy = fields.CharField(max_length=24)
    outcome = fields.CharField(max_length=16)
    split = fields.BooleanField(default=False)
    summary = fields.CharField(max_length=500, default="")
    chosen = fields.JSONField(default=list)
    candidates = fields.JSONField(default=list)
    policy_scope = fields.CharField(max_length=32, default="")
    policy_version = fields.IntField(null=True)
    actor = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "allocation_decision"
        indexes = (("order_id", "id"),)
