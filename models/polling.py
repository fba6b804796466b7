"""Where each channel's poller stands: the watermark it has read up to, and how its last runs went."""

from tortoise import fields
from tortoise.models import Model


class ChannelPoll(Model):
    """One channel's pull-API poller.

    ``watermark``: every order the platform modified up to this time has been
    read (the next run starts ``overlap`` before it, so an order the
    platform indexed late is still seen). It only moves forward, and only
    after a whole window was read.
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="channel_polls", on_delete=fields.CASCADE)
    channel = fields.OneToOneField("models.Channel", related_name="poll", on_delete=fields.CASCADE)
    watermark = fields.DatetimeField(null=True)
    last_run_at = fields.DatetimeField(null=True)
    last_success_at = fields.DatetimeField(null=True)
    #: Why the last run stopped early ("" when it read up to now).
    last_error = fields.TextField(default="")
    #: Runs in a row that stopped early (the next run waits longer after each).
    failures = fields.IntField(default=0)
    next_run_at = fields.DatetimeField(null=True)
    #: Orders read from the platform, and of those how many were new to OrderGraph (totals since the start).
    orders_read = fields.BigIntField(default=0)
    orders_created = fields.BigIntField(default=0)
    #: When the daily count-and-checksum check last ran, and what it found.
    checked_at = fields.DatetimeField(null=True)
    check = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "channel_poll"
