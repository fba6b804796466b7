"""Warehouses, the SKUs a tenant sells, and stock per (warehouse, SKU)."""

from tortoise import fields
from tortoise.models import Model


class Warehouse(Model):
    """A place stock sits in and parcels leave from."""

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="warehouses", on_delete=fields.CASCADE)
    code = fields.CharField(max_length=32)
    name = fields.CharField(max_length=200)
    province = fields.CharField(max_length=50, default="")
    city = fields.CharField(max_length=50, default="")
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    priority = fields.IntField(default=100)
    active = fields.BooleanField(default=True)

    class Meta:
        table = "warehouse"
        unique_together = (("tenant", "code"),)


class Sku(Model):
    """A sellable item — ``category`` feeds allocation exceptions (e.g. bulky goods)."""

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="skus", on_delete=fields.CASCADE)
    code = fields.CharField(max_length=64)
    title = fields.CharField(max_length=200)
    category = fields.CharField(max_length=64, default="")

    class Meta:
        table = "sku"
        unique_together = (("tenant", "code"),)


class Stock(Model):
    """Levels for one SKU in one warehouse. ``available = on_hand - reserved``."""

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="stock", on_delete=fields.CASCADE)
    warehouse = fields.ForeignKeyField("models.Warehouse", related_name="stock", on_delete=fields.CASCADE)
    sku = fields.CharField(max_length=64)
    on_hand = fields.IntField(default=0)
    reserved = fields.IntField(default=0)
    safety = fields.IntField(default=0)
    in_transit = fields.IntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "stock"
        unique_together = (("warehouse", "sku"),)
        indexes = (("tenant_id", "sku"),)
