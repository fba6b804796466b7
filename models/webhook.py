"""Partner webhooks: endpoints, their signing secrets, deliveries and every attempt."""

from tortoise import fields
from tortoise.models import Model

from models.sealing import SealedTextField


class WebhookEndpoint(Model):
    """A partner URL that receives signed event deliveries, filtered by event type and channel.

    Empty filter lists mean every event type or every channel. A disabled endpoint
    gets no new deliveries and its pending ones wait until it is enabled again.
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="webhook_endpoints", on_delete=fields.CASCADE)
    owner_key = fields.ForeignKeyField(
        "models.ApiKey", related_name="webhook_endpoints", null=True, on_delete=fields.SET_NULL,
        description="The API key that registered the endpoint. A partner key sees and manages only its own.",
    )
    url = fields.CharField(max_length=1000)
    description = fields.CharField(max_length=200, default="")
    event_types = fields.JSONField(default=list)
    channel_ids = fields.JSONField(default=list)
    status = fields.CharField(max_length=16, default="active")
    disabled_reason = fields.CharField(max_length=500, default="")
    disabled_at = fields.DatetimeField(null=True)
    failing_since = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "webhook_endpoint"
        indexes = (("tenant_id", "status"),)


class WebhookSecret(Model):
    """A signing secret (whsec_ prefix). During rotation the old one stays valid until expires_at."""

    id = fields.IntField(primary_key=True)
    endpoint = fields.ForeignKeyField("models.WebhookEndpoint", related_name="secrets", on_delete=fields.CASCADE)
    secret = SealedTextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_secret"


class WebhookDelivery(Model):
    """One event owed to one endpoint, kept until delivered or given up, with its signed body.

    Status is pending, delivering (claimed until lease_until), succeeded or failed.
    The message id stays the same across retries and replays so receivers can dedupe.
    """

    id = fields.BigIntField(primary_key=True)
    endpoint = fields.ForeignKeyField("models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE)
    tenant_id = fields.IntField()
    event_id = fields.BigIntField()
    event_type = fields.CharField(max_length=48)
    order_id = fields.IntField(null=True)
    message_id = fields.CharField(max_length=64)
    payload = fields.JSONField()
    status = fields.CharField(max_length=16, default="pending")
    attempt_count = fields.IntField(default=0)
    retry_index = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    lease_until = fields.DatetimeField(null=True)
    lease_token = fields.CharField(max_length=32, null=True)
    last_status_code = fields.IntField(null=True)
    last_error = fields.CharField(max_length=500, default="")
    event_created_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        unique_together = (("endpoint", "event_id"),)
        indexes = (("status", "next_attempt_at"), ("status", "id"), ("endpoint_id", "order_id", "status"),
                   ("endpoint_id", "event_created_at"))


class WebhookAttempt(Model):
    """One HTTP attempt of a delivery: when, the status code or error, and how long it took."""

    id = fields.BigIntField(primary_key=True)
    delivery = fields.ForeignKeyField("models.WebhookDelivery", related_name="attempts", on_delete=fields.CASCADE)
    attempted_at = fields.DatetimeField()
    status_code = fields.IntField(null=True)
    latency_ms = fields.FloatField()
    error = fields.CharField(max_length=500, default="")
    response_excerpt = fields.CharField(max_length=500, default="")

    class Meta:
        table = "webhook_attempt"
        indexes = (("delivery_id",),)
