"""Persisted GraphQL documents: a registered document that callers run by its SHA-256 instead of sending the text."""

from tortoise import fields
from tortoise.models import Model


class PersistedQuery(Model):
    """A GraphQL document registered by its hash, for one tenant or (tenant null) for every tenant."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Tenant", related_name="persisted_queries", null=True, on_delete=fields.CASCADE,
        description="Null: a global document (the console's, or one registered from the CLI for everybody).",
    )
    sha256 = fields.CharField(max_length=64, description="Lower-case hex SHA-256 of the UTF-8 document text.")
    document = fields.TextField(description="The GraphQL document, exactly as registered.")
    operation_name = fields.CharField(max_length=200, default="", description="The operation it runs, for lists.")
    registered_by = fields.CharField(max_length=200, description="Who registered it (the actor name).")
    created_at = fields.DatetimeField(auto_now_add=True)
    enabled = fields.BooleanField(default=True, description="Disabled documents are not found any more.")

    class Meta:
        table = "persisted_query"
        unique_together = (("tenant", "sha256"),)
        indexes = (("sha256",),)
