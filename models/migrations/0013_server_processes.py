from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0012_persisted_queries')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ServerProcess',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('host', fields.CharField(description='The host name the process runs on.', max_length=255)),
                ('pid', fields.IntField(description='Its operating-system process id on that host.')),
                ('started_at', fields.DatetimeField(description='When it registered at start-up.', auto_now=False, auto_now_add=False)),
                ('last_seen', fields.DatetimeField(description='Its newest heartbeat.', auto_now=False, auto_now_add=False)),
                ('stopped_at', fields.DatetimeField(null=True, description='When it shut down or was found lost. Null while alive.', auto_now=False, auto_now_add=False)),
                ('stopped_how', fields.CharField(default='', description='shutdown (a clean stop) or lost (no heartbeat and no goodbye).', db_default='', max_length=16)),
                ('bus_down_since', fields.DatetimeField(null=True, description='Since when its event-bus (Redis) connection is down, once it has been down long enough to alert.', auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'server_process', 'app': 'models', 'indexes': [Index(fields=['stopped_at'])], 'pk_attr': 'id', 'table_description': 'One ordergraph serve process (a uvicorn worker), from start-up until it stops or is found lost.'},
            bases=['Model'],
        ),
    ]
