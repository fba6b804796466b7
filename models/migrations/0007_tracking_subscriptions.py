"""Tracking subscriptions: a tracking provider account's config (now its API credentials too) is sealed like a
channel's, and a shipment remembers whether its provider was asked to push its scans, when its newest scan happened
(backfilled from the scans already held) and when the provider was last asked directly. The new NOT NULL columns
carry a database default, so existing shipments take them."""

import importlib

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.sealing import SealedJSONField

RetypeAsText = importlib.import_module("models.migrations.0005_sealed_secrets").RetypeAsText

BACKFILL_LAST_SCAN = (
    "UPDATE shipment SET last_scan_at = (SELECT MAX(tracking_event.occurred_at) FROM tracking_event "
    "WHERE tracking_event.shipment_id = shipment.id) WHERE last_scan_at IS NULL"
)


class Migration(migrations.Migration):
    dependencies = [('models', '0006_channel_polling')]

    initial = False

    operations = [
        RetypeAsText('CarrierAccount', 'config', SealedJSONField(default=dict), 'carrier_account'),
        ops.AddField(
            model_name='Shipment',
            name='last_scan_at',
            field=fields.DatetimeField(null=True, description='The time of the newest carrier scan, kept as scans are applied (the stalled-parcel check reads it).', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Shipment',
            name='queried_at',
            field=fields.DatetimeField(null=True, description="When the tracking provider was last asked directly for this waybill's scans.", auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Shipment',
            name='subscribed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Shipment',
            name='subscription',
            field=fields.CharField(default='', description='Whether the tracking provider pushes this waybill: "", pending, subscribed, failed or unsupported.', db_default='', max_length=16),
        ),
        ops.AddField(
            model_name='Shipment',
            name='subscription_attempts',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Shipment',
            name='subscription_error',
            field=fields.CharField(default='', description='Why the last subscription attempt failed ("" when it did not).', db_default='', max_length=500),
        ),
        ops.AddField(
            model_name='Shipment',
            name='subscription_retry_at',
            field=fields.DatetimeField(null=True, description="When the subscription is asked for again: a failed one's backoff, or the lease of a pending one.", auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Shipment',
            index=Index(fields=['subscription', 'subscription_retry_at']),
        ),
        ops.AddIndex(
            model_name='Shipment',
            index=Index(fields=['status', 'last_scan_at']),
        ),
        ops.RunSQL(BACKFILL_LAST_SCAN, reverse_sql=ops.RunSQL.noop),
    ]
