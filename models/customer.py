"""Buyers. The phone is kept in clear for the merchant and hashed for lookup."""

from tortoise import fields
from tortoise.models import Model


class Customer(Model):
    """A buyer as the merchant knows them, across channels."""

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="customers", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=100, default="")
    phone = fields.CharField(max_length=32, null=True)
    phone_hash = fields.CharField(max_length=64, null=True, db_index=True)
    email = fields.CharField(max_length=200, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "customer"
