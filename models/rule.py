"""Business rules as data: a named rule, its kept versions, and the SKU freezes rules (or people) put in place."""

from tortoise import fields
from tortoise.models import Model


class Rule(Model):
    """A rule a business user configured: version is the version in force, earlier ones are kept."""

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="rules", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=100)
    description = fields.CharField(max_length=500, default="")
    enabled = fields.BooleanField(default=False)
    version = fields.IntField(default=1)
    template = fields.CharField(max_length=48, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "rule"
        unique_together = (("tenant_id", "name"),)


class RuleVersion(Model):
    """One saved text of a rule: CEL condition, triggers (event types, or a schedule) and actions."""

    id = fields.IntField(primary_key=True)
    rule = fields.ForeignKeyField("models.Rule", related_name="versions", on_delete=fields.CASCADE)
    version = fields.IntField()
    condition = fields.TextField()
    triggers = fields.JSONField(default=list)
    schedule_seconds = fields.IntField(null=True)
    actions = fields.JSONField(default=list)
    created_by = fields.CharField(max_length=100, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "rule_version"
        unique_together = (("rule_id", "version"),)


class SkuFreeze(Model):
    """Intake or allocation of a SKU stopped (for one channel, or all when channel is null) until lifted."""

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="sku_freezes", on_delete=fields.CASCADE)
    channel = fields.ForeignKeyField("models.Channel", related_name="sku_freezes", null=True, on_delete=fields.CASCADE)
    sku = fields.CharField(max_length=64)
    scope = fields.CharField(max_length=16)
    reason = fields.CharField(max_length=500, default="")
    created_by = fields.CharField(max_length=100, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    lifted_at = fields.DatetimeField(null=True)
    lifted_by = fields.CharField(max_length=100, null=True)

    class Meta:
        table = "sku_freeze"
        indexes = (("tenant_id", "sku"),)
