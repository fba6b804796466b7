"""The append-only lineage, which is also the outbox, and the dispatcher's cursor."""

from tortoise import fields
from tortoise.models import Model


class OrderEvent(Model):
    """One change: who, from which system, why, what it was before and after.

    Rows are only ever inserted (by ``events.log.append`` inside a ``domain``
    transaction). Ids increase, so ``id > n`` is "everything after n".
    """

    id = fields.BigIntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="events", on_delete=fields.CASCADE)
    order = fields.ForeignKeyField("models.Order", related_name="events", null=True, on_delete=fields.RESTRICT)  # lineage outlives its order
    type = fields.CharField(max_length=48)
    actor = fields.CharField(max_length=100)
    source = fields.CharField(max_length=48)
    reason = fields.CharField(max_length=500, default="")
    before = fields.JSONField(null=True)
    after = fields.JSONField(null=True)
    payload_ref = fields.CharField(max_length=80, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "order_event"
        indexes = (("order_id", "id"), ("tenant_id", "id"))


class DispatchCursor(Model):
    """How far a consumer of the outbox has got: the last event id it handed on."""

    name = fields.CharField(max_length=64, primary_key=True)
    last_id = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "dispatch_cursor"
