"""What customers tell the merchant about an order from the tracking page."""

from tortoise import fields
from tortoise.models import Model


class OrderFeedback(Model):
    """A 1 to 5 rating with an optional comment, at most one per order.

    The comment is kept here only, the lineage records the rating and that a comment exists.
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="feedback", on_delete=fields.CASCADE)
    order = fields.OneToOneField("models.Order", related_name="feedback", on_delete=fields.CASCADE)
    customer = fields.ForeignKeyField("models.Customer", related_name="feedback", null=True, on_delete=fields.SET_NULL)
    rating = fields.SmallIntField()
    comment = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "order_feedback"
        indexes = (("tenant_id", "created_at"),)
