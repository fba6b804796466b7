"""Notifications where people work: routes to WeCom/DingTalk groups or mailboxes, and every delivery."""

from tortoise import fields
from tortoise.models import Model

from models.sealing import SealedJSONField


class NotificationRoute(Model):
    """Where a tenant's alerts go, filtered by kind, severity and warehouse.

    target is wecom, dingtalk or email, config (sealed) holds the robot's
    webhook URL and secret, or the mail recipients. Empty filter lists match all.
    More than rate_per_minute messages in a minute are folded into one digest.
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="notification_routes", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=100)
    target = fields.CharField(max_length=16)
    config = SealedJSONField()
    kinds = fields.JSONField(default=list)
    min_severity = fields.CharField(max_length=16, default="info")
    warehouse_ids = fields.JSONField(default=list)
    language = fields.CharField(max_length=8, default="zh")
    rate_per_minute = fields.IntField(default=20)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notification_route"
        unique_together = (("tenant_id", "name"),)


class NotificationDelivery(Model):
    """One message owed to one route: pending, sent, failed (gave up) or digested (folded into a digest)."""

    id = fields.BigIntField(primary_key=True)
    route = fields.ForeignKeyField("models.NotificationRoute", related_name="deliveries", on_delete=fields.CASCADE)
    tenant_id = fields.IntField()
    event_id = fields.BigIntField()
    alert_id = fields.IntField(null=True)
    status = fields.CharField(max_length=16, default="pending")
    title = fields.CharField(max_length=200, default="")
    body = fields.TextField(default="")
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.CharField(max_length=500, default="")
    event_created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    digest_of = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notification_delivery"
        unique_together = (("route_id", "event_id"),)
        indexes = (("status", "next_attempt_at"),)
