"""Sales channels a tenant sells on (a Taobao shop, a Shopify store, a CSV feed)."""

from tortoise import fields
from tortoise.models import Model

from models.sealing import SealedJSONField, SealedTextField


class Channel(Model):
    """One storefront — ``kind`` names the adapter that understands its payloads."""

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="channels", on_delete=fields.CASCADE)
    code = fields.CharField(max_length=64)
    kind = fields.CharField(max_length=32)
    name = fields.CharField(max_length=200)
    secret = SealedTextField(null=True)
    #: Field mappings and the platform API account (credentials): sealed as a whole.
    config = SealedJSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "channel"
        unique_together = (("tenant", "code"),)
