"""Indexes on the foreign keys the graph reads by: an order's lines, payments and shipments, alerts, attempts."""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Alert',
            index=Index(fields=['order_id']),
        ),
        ops.AddIndex(
            model_name='Order',
            index=Index(fields=['customer_id']),
        ),
        ops.AddIndex(
            model_name='OrderLine',
            index=Index(fields=['order_id']),
        ),
        ops.AddIndex(
            model_name='Payment',
            index=Index(fields=['order_id']),
        ),
        ops.AddIndex(
            model_name='Shipment',
            index=Index(fields=['order_id']),
        ),
        ops.AddIndex(
            model_name='WebhookAttempt',
            index=Index(fields=['delivery_id']),
        ),
    ]
