from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0013_server_processes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='DeliveryOrder',
            name='swept_at',
            field=fields.DatetimeField(null=True, description='When the confirmation sweep last asked the WMS about it.', auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='WebhookDelivery',
            index=Index(fields=['status', 'id']),
        ),
    ]
