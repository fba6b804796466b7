"""Shipments (parcels handed to carriers) and their carrier tracking events."""

from tortoise import fields
from tortoise.models import Model


class Shipment(Model):
    """A parcel. Its status comes only from carrier tracking once handed over.

    ``carrier`` is a normalised code (``SF``, ``ZTO``, ``JD``, …: ``domain.inbound.carrier_codes``).
    The subscription columns say whether the tenant's tracking provider was asked to push its scans
    (``domain.tracking.subscriptions``).
    """

    id = fields.IntField(primary_key=True)
    order = fields.ForeignKeyField("models.Order", related_name="shipments", on_delete=fields.CASCADE)
    warehouse = fields.ForeignKeyField(
        "models.Warehouse", related_name="shipments", null=True, on_delete=fields.SET_NULL
    )
    carrier = fields.CharField(max_length=32)
    tracking_no = fields.CharField(max_length=64)
    status = fields.CharField(max_length=24)
    #: Who told us about the parcel: ``ops`` (shipOrder), ``channel`` (the platform's waybill), ``wms``.
    source = fields.CharField(max_length=16, default="ops")
    shipped_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    estimated_delivery = fields.DatetimeField(null=True)
    #: Whether the tracking provider pushes this waybill: "", pending, subscribed, failed or unsupported.
    subscription = fields.CharField(max_length=16, default="", db_default="")
    subscribed_at = fields.DatetimeField(null=True)
    #: Why the last subscription attempt failed ("" when it did not).
    subscription_error = fields.CharField(max_length=500, default="", db_default="")
    subscription_attempts = fields.IntField(default=0, db_default=0)
    #: When the subscription is asked for again: a failed one's backoff, or the lease of a pending one.
    subscription_retry_at = fields.DatetimeField(null=True)
    #: The time of the newest carrier scan, kept as scans are applied (the stalled-parcel check reads it).
    last_scan_at = fields.DatetimeField(null=True)
    #: When the tracking provider was last asked directly for this waybill's scans.
    queried_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "shipment"
        indexes = (("carrier", "tracking_no"), ("order_id",), ("subscription", "subscription_retry_at"),
                   ("status", "last_scan_at"))


class TrackingEvent(Model):
    """One carrier scan, with the carrier's own code kept next to the unified one."""

    id = fields.IntField(primary_key=True)
    shipment = fields.ForeignKeyField("models.Shipment", related_name="tracking_events", on_delete=fields.CASCADE)
    status = fields.CharField(max_length=24)
    raw_code = fields.CharField(max_length=32, default="")
    description = fields.CharField(max_length=500, default="")
    location = fields.CharField(max_length=200, default="")
    occurred_at = fields.DatetimeField()
    source = fields.CharField(max_length=32, default="")
    #: The carrier gave a local time without offset, and the offset was inferred from where the scan happened.
    time_inferred = fields.BooleanField(default=False)

    class Meta:
        table = "tracking_event"
        indexes = (("shipment_id", "occurred_at"),)
