"""Tenants (merchants) and the API keys that act for them."""

from tortoise import fields
from tortoise.models import Model


class Tenant(Model):
    """A merchant — every other row belongs to exactly one."""

    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    logo_url = fields.CharField(max_length=500, null=True)
    accent_color = fields.CharField(max_length=16, default="#e4393c")
    contact_url = fields.CharField(max_length=500, default="", db_default="",
                                   description="Where a customer contacts the shop (the tracking page links it).")
    time_zone = fields.CharField(max_length=48, default="Asia/Shanghai", db_default="Asia/Shanghai")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tenant"


class ApiKey(Model):
    """A credential: only the SHA-256 of the secret is kept."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="api_keys", on_delete=fields.CASCADE
    )
    role = fields.CharField(max_length=16)
    name = fields.CharField(max_length=100, default="")
    owner = fields.CharField(max_length=120, null=True,
                             description="The person or system behind the key, e.g. Li Wei <li.wei@acme.cn>. "
                                         "Lineage names it. Empty for keys made before owners were recorded.")
    key_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"
