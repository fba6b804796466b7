"""Background lineage exports: who asked for what, how far it got, and the file once done."""

from tortoise import fields
from tortoise.models import Model


class ExportJob(Model):
    """One startLineageExport, run in-process: a job a restart interrupted is marked failed on start.

    status is running, done or failed; path is the file under var/exports.
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="export_jobs", on_delete=fields.CASCADE)
    requested_by = fields.CharField(max_length=100)
    params = fields.JSONField(default=dict)
    status = fields.CharField(max_length=16, default="running")
    progress = fields.IntField(default=0)
    total = fields.IntField(default=0)
    path = fields.CharField(max_length=300, default="")
    manifest = fields.JSONField(null=True)
    error = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "export_job"
        indexes = (("tenant_id", "created_at"),)
