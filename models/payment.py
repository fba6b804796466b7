"""Payments captured against orders."""

from tortoise import fields
from tortoise.models import Model


class Payment(Model):
    """A payment as the gateway reported it — ``reference`` is kept verbatim."""

    id = fields.IntField(primary_key=True)
    order = fields.ForeignKeyField("models.Order", related_name="payments", on_delete=fields.CASCADE)
    gateway = fields.CharField(max_length=32)
    reference = fields.CharField(max_length=64, default="")
    amount = fields.DecimalField(max_digits=14, decimal_places=2)
    currency = fields.CharField(max_length=3, default="CNY")
    status = fields.CharField(max_length=24)
    paid_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "payment"
        indexes = (("order_id",),)
