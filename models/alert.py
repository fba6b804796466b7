"""Exceptions a person should look at: the exception board's rows."""

from tortoise import fields
from tortoise.models import Model


class Alert(Model):
    """One problem, optionally about one order, raised once and updated in place while it lasts.

    kind is a value of domain.alerts.kinds.AlertKind, subject names what the
    problem is about when that is not an order (stock:12, endpoint:3), so the
    same kind about two subjects is two alerts. state is open, acknowledged,
    snoozed or resolved, cleared_at is when it was resolved (null while not).
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="alerts", on_delete=fields.CASCADE)
    order = fields.ForeignKeyField("models.Order", related_name="alerts", null=True, on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=48)
    subject = fields.CharField(max_length=64, default="", db_default="")
    severity = fields.CharField(max_length=16, default="warning")
    message = fields.CharField(max_length=500)
    details = fields.JSONField(default=dict)
    raised_at = fields.DatetimeField(auto_now_add=True)
    cleared_at = fields.DatetimeField(null=True)
    state = fields.CharField(max_length=16, default="open", db_default="open")
    owner = fields.CharField(max_length=100, null=True)
    acknowledged_at = fields.DatetimeField(null=True)
    acknowledged_by = fields.CharField(max_length=100, null=True)
    snoozed_until = fields.DatetimeField(null=True)
    resolution = fields.TextField(default="", db_default="")
    resolved_by = fields.CharField(max_length=100, null=True)
    reopened = fields.IntField(default=0, db_default=0)
    updated_at = fields.DatetimeField(null=True)
    due_at = fields.DatetimeField(null=True, description="When the SLA clock runs out: raised_at plus the severity's SLA.")
    warehouse_id = fields.IntField(null=True)
    channel_id = fields.IntField(null=True)

    class Meta:
        table = "alert"
        indexes = (("tenant_id", "kind"), ("order_id",), ("tenant_id", "state"))
