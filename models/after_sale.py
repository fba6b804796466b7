"""After-sales (refunds, returns, exchanges), their lines and photos, and each tenant's after-sale policy."""

from tortoise import fields
from tortoise.models import Model


class AfterSale(Model):
    """One after-sale request about one order: refund only, return and refund, or exchange.

    status follows the after-sale dimension: REQUESTED, APPROVED or REJECTED,
    AWAITING_RETURN, RECEIVED, REFUNDED or EXCHANGED, CLOSED. external_id is the
    channel's refund or after-sale id, kept verbatim (null for requests made here).
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="after_sales", on_delete=fields.CASCADE)
    order = fields.ForeignKeyField("models.Order", related_name="after_sales", on_delete=fields.RESTRICT)
    kind = fields.CharField(max_length=16)
    status = fields.CharField(max_length=24)
    source = fields.CharField(max_length=16)
    external_id = fields.CharField(max_length=64, null=True)
    reason = fields.CharField(max_length=500, default="")
    requested_amount = fields.DecimalField(max_digits=14, decimal_places=2)
    approved_amount = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    refunded_amount = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = fields.CharField(max_length=3, default="CNY")
    decided_by = fields.CharField(max_length=100, null=True)
    decided_at = fields.DatetimeField(null=True)
    decision_note = fields.CharField(max_length=500, default="")
    respond_by = fields.DatetimeField(null=True, description="The channel's or the policy's deadline for the decision.")
    return_by = fields.DatetimeField(null=True, description="The buyer must send the goods back by then.")
    warehouse = fields.ForeignKeyField("models.Warehouse", related_name="after_sales", null=True, on_delete=fields.SET_NULL)
    return_carrier = fields.CharField(max_length=32, default="")
    return_tracking_no = fields.CharField(max_length=64, default="")
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    channel_status = fields.CharField(max_length=32, default="", db_default="",
                                      description="The channel's own last status code for it, verbatim.")
    push_action = fields.CharField(max_length=16, default="", db_default="",
                                   description="A decision owed to the channel: approve or reject (empty: none).")
    push_state = fields.CharField(max_length=16, default="", db_default="",
                                  description="pending, done or failed, empty when nothing is owed to the channel.")
    push_attempts = fields.IntField(default=0, db_default=0)
    push_due_at = fields.DatetimeField(null=True, description="When the pending push is tried (next).")
    push_error = fields.CharField(max_length=300, default="", db_default="")

    class Meta:
        table = "after_sale"
        unique_together = (("tenant_id", "order_id", "external_id"),)
        indexes = (("tenant_id", "status"), ("order_id",), ("push_state", "push_due_at"))


class AfterSaleLine(Model):
    """How many units of one order line the after-sale is about, and what became of those that came back."""

    id = fields.IntField(primary_key=True)
    after_sale = fields.ForeignKeyField("models.AfterSale", related_name="lines", on_delete=fields.CASCADE)
    order_line = fields.ForeignKeyField("models.OrderLine", related_name="after_sale_lines", on_delete=fields.RESTRICT)
    quantity = fields.IntField()
    amount = fields.DecimalField(max_digits=14, decimal_places=2)
    received = fields.IntField(default=0)
    restocked = fields.IntField(default=0)
    written_off = fields.IntField(default=0)
    replacement_sku = fields.CharField(max_length=64, null=True)
    replacement_line = fields.ForeignKeyField("models.OrderLine", related_name="replacing", null=True,
                                              on_delete=fields.SET_NULL)

    class Meta:
        table = "after_sale_line"


class AfterSalePhoto(Model):
    """A photo the customer added to a return request (bytes kept here, size-limited)."""

    id = fields.IntField(primary_key=True)
    after_sale = fields.ForeignKeyField("models.AfterSale", related_name="photos", on_delete=fields.CASCADE)
    content_type = fields.CharField(max_length=32)
    size = fields.IntField()
    sha256 = fields.CharField(max_length=64)
    data = fields.BinaryField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "after_sale_photo"


class AfterSalePolicy(Model):
    """A tenant's after-sale rules (for one channel, or all when channel is null), as data.

    config holds auto_approve_refund_up_to (default 200), the risk levels that
    are never auto-approved, respond_hours and return_days.
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="after_sale_policies", on_delete=fields.CASCADE)
    channel = fields.ForeignKeyField("models.Channel", related_name="after_sale_policies", null=True,
                                     on_delete=fields.CASCADE)
    config = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "after_sale_policy"
        unique_together = (("tenant_id", "channel_id"),)
