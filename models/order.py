"""Orders, their lines and tags."""

from tortoise import fields
from tortoise.models import Model


class Order(Model):
    """A channel order as OrderGraph knows it. Written only by ``domain/`` use cases.

    Its customer-facing number is derived from the id (``OG000000042``), so it
    needs no column and can never collide. ``total_amount`` is what the buyer
    pays (or paid) for the order on every channel: goods - discounts +
    shipping + tax; the parts are kept as the channel states them.
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
    #: The parts of the amount as the channel states them (null: the channel did not say).
    goods_total = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    discount_total = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    shipping_fee = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    tax_total = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    paid_at = fields.DatetimeField(null=True)
    ship_name = fields.CharField(max_length=100, default="")
    ship_phone = fields.CharField(max_length=32, default="")
    ship_province = fields.CharField(max_length=50, default="")
    ship_city = fields.CharField(max_length=50, default="")
    ship_district = fields.CharField(max_length=50, default="")
    ship_address = fields.CharField(max_length=300, default="")
    ship_postal_code = fields.CharField(max_length=20, default="")
    ship_country_code = fields.CharField(max_length=2, default="")
    ship_company = fields.CharField(max_length=100, default="")
    #: The platform's own masked forms of the receiver (``{"name": "张*", "phone": "138****5678", "address": …}``),
    #: shown when the clear values are not ours to keep (Taobao, Pinduoduo, Douyin encrypt them).
    contact_masked = fields.JSONField(default=dict)
    placed_at = fields.DatetimeField()
    source_updated_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    version = fields.IntField(default=1)
    priority = fields.CharField(max_length=24, default="STANDARD")
    priority_rank = fields.IntField(default=50)
    ship_by = fields.DatetimeField(null=True)
    balance_due_at = fields.DatetimeField(null=True)
    merged_into = fields.ForeignKeyField(
        "models.Order", related_name="merged_orders", null=True, on_delete=fields.SET_NULL,
        description="The order this one ships with (合单), null when it ships on its own or leads a merge.",
    )

    class Meta:
        table = "orders"
        unique_together = (("tenant", "channel", "external_id"),)
        indexes = (("tenant_id", "created_at", "id"), ("tenant_id", "updated_at", "id"), ("tenant_id", "status"), ("customer_id",),
                   ("merged_into_id",))


class OrderLine(Model):
    """One SKU on an order — ``warehouse`` is where it is allocated, if anywhere."""

    id = fields.IntField(primary_key=True)
    order = fields.ForeignKeyField("models.Order", related_name="lines", on_delete=fields.CASCADE)
    sku = fields.CharField(max_length=64)
    title = fields.CharField(max_length=200, default="")
    quantity = fields.IntField()
    unit_price = fields.DecimalField(max_digits=14, decimal_places=2)
    #: The channel's id of this line (Taobao ``oid``, Shopify line item id), for per-line refunds and returns.
    external_line_id = fields.CharField(max_length=64, default="")
    parcel = fields.IntField(default=1, db_default=1, description="Which of the order's parcels the line ships in (a manual split).")
    #: The SKU as the channel wrote it, when a per-channel alias mapped it onto ``sku``.
    channel_sku = fields.CharField(max_length=64, default="")
    warehouse = fields.ForeignKeyField(
        "models.Warehouse", related_name="order_lines", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "order_line"
        indexes = (("order_id",),)


class SealedContact(Model):
    """Receiver contact a platform sent encrypted: ciphertext kept apart from the order, never shown.

    Clear values are fetched through the channel's decryption port only for a
    role that may see them, and not stored.
    """

    id = fields.IntField(primary_key=True)
    order = fields.OneToOneField("models.Order", related_name="sealed_contact", on_delete=fields.CASCADE)
    platform = fields.CharField(max_length=32)
    name_cipher = fields.TextField(default="")
    phone_cipher = fields.TextField(default="")
    address_cipher = fields.TextField(default="")
    #: The platform's key for decrypting, where it has one (Taobao OAID).
    open_id = fields.CharField(max_length=128, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sealed_contact"


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
    if text.startswith(ORDER_NO_PREFIX) and text[2:].isascii() and text[2:].isdigit() and len(text) <= 12:
        number = int(text[2:])
        return number if 0 < number < 2**31 else None
    return None
