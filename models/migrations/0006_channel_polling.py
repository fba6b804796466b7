"""A channel's pull-API poller remembers where it stands: its watermark, its last runs, its daily check."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_sealed_secrets')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChannelPoll',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='channel_polls', on_delete=OnDelete.CASCADE)),
                ('channel', fields.OneToOneField('models.Channel', source_field='channel_id', db_constraint=True, to_field='id', related_name='poll', on_delete=OnDelete.CASCADE)),
                ('watermark', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_run_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_success_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(default='', description='Why the last run stopped early ("" when it read up to now).', unique=False)),
                ('failures', fields.IntField(default=0, description='Runs in a row that stopped early (the next run waits longer after each).')),
                ('next_run_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('orders_read', fields.BigIntField(default=0, description='Orders read from the platform, and of those how many were new to OrderGraph (totals since the start).')),
                ('orders_created', fields.BigIntField(default=0)),
                ('checked_at', fields.DatetimeField(null=True, description='When the daily count-and-checksum check last ran, and what it found.', auto_now=False, auto_now_add=False)),
                ('check', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'channel_poll', 'app': 'models', 'pk_attr': 'id', 'table_description': "One channel's pull-API poller."},
            bases=['Model'],
        ),
    ]
