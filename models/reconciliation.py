"""Reconciliation runs: one day's orders compared across channel, ERP, WMS and gateway, and what differed."""

from tortoise import fields
from tortoise.models import Model


class ReconciliationRun(Model):
    """One comparison of a day (in the tenant's time zone), with its threshold and totals."""

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="reconciliations", on_delete=fields.CASCADE)
    day = fields.DateField()
    status = fields.CharField(max_length=16, default="running")
    threshold = fields.DecimalField(max_digits=6, decimal_places=4)
    orders_checked = fields.IntField(default=0)
    orders_differing = fields.IntField(default=0)
    totals = fields.JSONField(default=dict)
    error = fields.CharField(max_length=500, default="")
    started_by = fields.CharField(max_length=100, default="")
    started_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "reconciliation_run"
        indexes = (("tenant_id", "day"),)


class ReconciliationDiff(Model):
    """One order whose figures disagree between sources in one dimension (quantity or amount)."""

    id = fields.BigIntField(primary_key=True)
    run = fields.ForeignKeyField("models.ReconciliationRun", related_name="diffs", on_delete=fields.CASCADE)
    order_id = fields.IntField(null=True)
    reference = fields.CharField(max_length=64, default="")
    dimension = fields.CharField(max_length=16)
    channel_value = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    erp_value = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    wms_value = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    gateway_value = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    difference = fields.DecimalField(max_digits=14, decimal_places=2)
    note = fields.CharField(max_length=300, default="")

    class Meta:
        table = "reconciliation_diff"
        indexes = (("run_id", "order_id"),)
