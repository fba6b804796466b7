"""Orders, their lines and tags."""

from tortoise import fields
from tortoise.models import Model


class Order(Model):
    """A channel order as OrderGraph knows it. Written only by ``domain/`` use cases.

    Its customer-facing number is derived from the id (``OG000000042``), so it
    needs no column and can never collide.
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="orders", on_delete=fields.CASCADE)
    channel = fields.ForeignKeyField("models.Channel", related_name="orders", on_delete=fields.RESTRICT)
    external_id = fields.CharField(max_length=64)
    customer = fields.ForeignKeyField(
        "models.Customer", related_name="orders", null=True, on_delete=fields.SET_NULL
    )
    warehouse = fields.ForeignKeyField(
        "models.Warehouse", related_name="orders", null=True, on_delete=fields.SET_NULL
    )
    status = fields.CharField(max_length=24)
    status_before_hold = fields.CharField(max_length=24, null=True)
    hold_reasons = fields.JSONField(default=list)
    currency = fields.CharField(max_length=3, default="CNY")
    total_amount = fields.DecimalField(max_digits=14, decimal_places=2)
    ship_name = fields.CharField(max_length=100, default="")
    ship_phone = fields.CharField(max_length=32, default="")
    ship_province = fields.CharField(max_length=50, default="")
    ship_city = fields.CharField(max_length=50, default="")
    ship_district = fields.CharField(max_length=50, default="")
    ship_address = fields.CharField(max_length=300, default="")
    placed_at = fields.DatetimeField()
    source_updated_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    version = fields.IntField(default=1)
    priority = fields.CharField(max_length=24, default="STANDARD")
    priority_rank = fields.IntField(default=50)
    ship_by = fields.DatetimeField(null=True)
    balance_due_at = fields.DatetimeField(null=True)

    class Meta:
        table = "orders"
        unique_together = (("tenant", "channel", "external_id"),)
        indexes = (("tenant_id", "created_at", "id"), ("tenant_id", "updated_at", "id"), ("tenant_id", "status"), ("customer_id",))


class OrderLine(Model):
    """One SKU on an order — ``warehouse`` is where it is allocated, if anywhere."""

    id = fields.IntField(primary_key=True)
    order = fields.ForeignKeyField("models.Order", related_name="lines", on_delete=fields.CASCADE)
    sku = fields.CharField(max_length=64)
    title = fields.CharField(max_length=200, default="")
    quantity = fields.IntField()
    unit_price = fields.DecimalField(max_digits=14, decimal_places=2)
    warehouse = fields.ForeignKeyField(
        "models.Warehouse", related_name="order_lines", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "order_line"
        indexes = (("order_id",),)


class OrderTag(Model):
    """A free-form label on an order (``vip``, ``presale``), a row each so filters stay portable."""

    id = fields.IntField(primary_key=True)
    order = fields.ForeignKeyField("models.Order", related_name="tag_rows", on_delete=fields.CASCADE)
    tag = fields.CharField(max_length=64)

    class Meta:
        table = "order_tag"
        unique_together = (("order", "tag"),)
        indexes = (("tag",),)


ORDER_NO_PREFIX = "OG"


def order_no(order_id: int) -> str:
    """The number customers and support staff quote: ``order_no(42) == "OG000000042"``."""
    return f"{ORDER_NO_PREFIX}{order_id:09d}"


def parse_order_no(text: str) -> int | None:
    """The id behind an order number, or None if ``text`` is not one."""
    text = text.strip().upper()
    if text.startswith(ORDER_NO_PREFIX) and text[2:].isdigit():
        return int(text[2:])
    return None
