"""Payments against orders (deposits, balances, refunds as negative amounts) and the gateways' notices about them."""

from tortoise import fields
from tortoise.models import Model

from models.sealing import SealedJSONField


class Payment(Model):
    """A payment as its source reported it: reference kept verbatim, normalized_reference for matching.

    kind is payment, deposit, balance or refund (a refund's amount is negative
    and it names its after-sale). flags lists what is off: partial, over.
    """

    id = fields.IntField(primary_key=True)
    order = fields.ForeignKeyField("models.Order", related_name="payments", on_delete=fields.CASCADE)
    gateway = fields.CharField(max_length=32)
    reference = fields.CharField(max_length=64, default="")
    amount = fields.DecimalField(max_digits=14, decimal_places=2)
    currency = fields.CharField(max_length=3, default="CNY")
    status = fields.CharField(max_length=24)
    paid_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    kind = fields.CharField(max_length=16, default="payment", db_default="payment")
    normalized_reference = fields.CharField(max_length=64, default="", db_default="")
    gateway_reference = fields.CharField(max_length=64, default="", db_default="",
                                         description="The gateway's own transaction id, once a notice named it.")
    after_sale = fields.ForeignKeyField("models.AfterSale", related_name="payments", null=True,
                                        on_delete=fields.SET_NULL)
    flags = fields.JSONField(default=list)
    confirmed_at = fields.DatetimeField(null=True, description="When the gateway's own notice confirmed it.")

    class Meta:
        table = "payment"
        indexes = (("order_id",), ("normalized_reference",))


class PaymentNotice(Model):
    """A payment gateway's notification, kept whatever became of it.

    outcome is applied, duplicate, unmatched (no payment has this reference),
    ambiguous (several could be it: a person picks one), refused (bad signature
    or malformed), or resolved (a person matched it).
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="payment_notices", on_delete=fields.CASCADE)
    gateway = fields.CharField(max_length=32)
    notice_id = fields.CharField(max_length=64)
    reference = fields.CharField(max_length=64, default="")
    normalized_reference = fields.CharField(max_length=64, default="")
    transaction_id = fields.CharField(max_length=64, default="")
    amount = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    currency = fields.CharField(max_length=3, default="CNY")
    status = fields.CharField(max_length=24, default="")
    outcome = fields.CharField(max_length=16)
    reason = fields.CharField(max_length=500, default="")
    candidates = fields.JSONField(default=list)
    payment = fields.ForeignKeyField("models.Payment", related_name="notices", null=True, on_delete=fields.SET_NULL)
    payload_ref = fields.CharField(max_length=80, null=True)
    resolved_by = fields.CharField(max_length=100, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "payment_notice"
        unique_together = (("tenant_id", "gateway", "notice_id"),)
        indexes = (("tenant_id", "outcome"),)


class PaymentGatewayAccount(Model):
    """A tenant's account with a payment gateway: the keys its notices are verified and decrypted with.

    ``config`` is sealed as a whole (WeChat Pay: API v3 key, platform certificate,
    merchant id; Alipay: Alipay's public key, app id). Never shown in clear.
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="payment_gateway_accounts", on_delete=fields.CASCADE)
    gateway = fields.CharField(max_length=32)
    config = SealedJSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "payment_gateway_account"
        unique_together = (("tenant", "gateway"),)
