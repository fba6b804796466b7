"""Exceptions a person should look at, with a diagnosis."""

from tortoise import fields
from tortoise.models import Model


class Alert(Model):
    """An open (``cleared_at`` null) or cleared problem, optionally about one order."""

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="alerts", on_delete=fields.CASCADE)
    order = fields.ForeignKeyField("models.Order", related_name="alerts", null=True, on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=48)
    severity = fields.CharField(max_length=16, default="warning")
    message = fields.CharField(max_length=500)
    details = fields.JSONField(default=dict)
    raised_at = fields.DatetimeField(auto_now_add=True)
    cleared_at = fields.DatetimeField(null=True)

    class Meta:
        table = "alert"
        indexes = (("tenant_id", "kind"), ("order_id",))
