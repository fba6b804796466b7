"""The registry of running server processes: who is alive, who said goodbye, who vanished."""

from tortoise import fields
from tortoise.models import Model


class ServerProcess(Model):
    """One ordergraph serve process (a uvicorn worker), from start-up until it stops or is found lost.

    last_seen is its newest heartbeat. stopped_at stays null while it runs.
    stopped_how is shutdown (it said goodbye) or lost (it stopped heartbeating
    and the leader noticed, e.g. after kill -9).
    """

    id = fields.IntField(primary_key=True)
    host = fields.CharField(max_length=255, description="The host name the process runs on.")
    pid = fields.IntField(description="Its operating-system process id on that host.")
    started_at = fields.DatetimeField(description="When it registered at start-up.")
    last_seen = fields.DatetimeField(description="Its newest heartbeat.")
    stopped_at = fields.DatetimeField(null=True, description="When it shut down or was found lost. Null while alive.")
    stopped_how = fields.CharField(max_length=16, default="", db_default="",
                                   description="shutdown (a clean stop) or lost (no heartbeat and no goodbye).")
    bus_down_since = fields.DatetimeField(null=True, description="Since when its event-bus (Redis) connection is "
                                                                 "down, once it has been down long enough to alert.")

    class Meta:
        table = "server_process"
        indexes = (("stopped_at",),)
