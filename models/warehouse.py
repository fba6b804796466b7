"""Warehouses, the SKUs a tenant sells, and stock per (warehouse, SKU)."""

from tortoise import fields
from tortoise.models import Model


class Warehouse(Model):
    """A place stock sits in and parcels leave from. A paused one (``active`` false) keeps its stock but is not allocated to."""

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="warehouses", on_delete=fields.CASCADE)
    code = fields.CharField(max_length=32)
    name = fields.CharField(max_length=200)
    province = fields.CharField(max_length=50, default="")
    city = fields.CharField(max_length=50, default="")
    district = fields.CharField(max_length=50, default="")
    address = fields.CharField(max_length=300, default="")
    postal_code = fields.CharField(max_length=20, default="")
    country_code = fields.CharField(max_length=2, default="CN")
    #: A name allocation policies and reports group warehouses by (``east``, ``north``).
    region = fields.CharField(max_length=32, default="")
    #: Handling cost per order, used by the lowest-cost strategy when the policy names none for this warehouse.
    handling_cost = fields.DecimalField(max_digits=10, decimal_places=2, null=True)
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    priority = fields.IntField(default=100)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True, null=True)
    updated_at = fields.DatetimeField(auto_now=True, null=True)

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
    barcode = fields.CharField(max_length=64, default="")
    weight_grams = fields.IntField(null=True)
    #: Safety stock a new (warehouse, SKU) row starts with.
    safety_stock = fields.IntField(default=0)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True, null=True)
    updated_at = fields.DatetimeField(auto_now=True, null=True)

    class Meta:
        table = "sku"
        unique_together = (("tenant", "code"),)


class SkuAlias(Model):
    """A channel's name for one of the tenant's SKUs (``TB-TEA-250`` on the Tmall shop is ``TEA-250``)."""

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="sku_aliases", on_delete=fields.CASCADE)
    channel = fields.ForeignKeyField("models.Channel", related_name="sku_aliases", on_delete=fields.CASCADE)
    alias = fields.CharField(max_length=64)
    sku = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sku_alias"
        unique_together = (("channel", "alias"),)


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
