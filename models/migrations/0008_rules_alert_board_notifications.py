"""Rules, the exception board and notifications: rules with kept versions and SKU freezes; alerts gain a
subject (the id that used to be glued into their kind, so kinds become a closed vocabulary), a state, an owner,
acknowledgement, snoozing, a resolution text and an SLA clock; notification routes and their deliveries; an order
can be merged into another (合单) and its lines assigned to parcels (a manual split)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.sealing import SealedJSONField
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

#: Kinds that carried their subject's id are split into kind + subject; resolved alerts say so in their state.
SPLIT_KINDS = [
    f"UPDATE alert SET subject = '{subject}' || substr(kind, {len(prefix) + 1}), kind = '{prefix[:-1]}' "
    f"WHERE kind LIKE '{prefix}%'"
    for prefix, subject in (("low_stock:", "stock:"), ("wms_stock_conflict:", "stock:"),
                            ("stock_drift:", "warehouse:"), ("webhook_disabled:", "endpoint:"), ("orders_missed:", "channel:"), ("count_conflict:", "stock:"))
] + ["UPDATE alert SET state = 'resolved' WHERE cleared_at IS NOT NULL"]


class Migration(migrations.Migration):
    dependencies = [('models', '0007_tracking_subscriptions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='NotificationRoute',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='notification_routes', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=100)),
                ('target', fields.CharField(max_length=16)),
                ('config', SealedJSONField(default=dict)),
                ('kinds', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('min_severity', fields.CharField(default='info', max_length=16)),
                ('warehouse_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('language', fields.CharField(default='zh', max_length=8)),
                ('rate_per_minute', fields.IntField(default=20)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'notification_route', 'app': 'models', 'unique_together': (('tenant_id', 'name'),), 'pk_attr': 'id', 'table_description': "Where a tenant's alerts go, filtered by kind, severity and warehouse."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NotificationDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('route', fields.ForeignKeyField('models.NotificationRoute', source_field='route_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('tenant_id', fields.IntField()),
                ('event_id', fields.BigIntField()),
                ('alert_id', fields.IntField(null=True)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('title', fields.CharField(default='', max_length=200)),
                ('body', fields.TextField(default='', unique=False)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('event_created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('digest_of', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'notification_delivery', 'app': 'models', 'unique_together': (('route_id', 'event_id'),), 'indexes': [Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'One message owed to one route: pending, sent, failed (gave up) or digested (folded into a digest).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Rule',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='rules', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=100)),
                ('description', fields.CharField(default='', max_length=500)),
                ('enabled', fields.BooleanField(default=False)),
                ('version', fields.IntField(default=1)),
                ('template', fields.CharField(null=True, max_length=48)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'rule', 'app': 'models', 'unique_together': (('tenant_id', 'name'),), 'pk_attr': 'id', 'table_description': 'A rule a business user configured: version is the version in force, earlier ones are kept.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RuleVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('rule', fields.ForeignKeyField('models.Rule', source_field='rule_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.CASCADE)),
                ('version', fields.IntField()),
                ('condition', fields.TextField(unique=False)),
                ('triggers', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('schedule_seconds', fields.IntField(null=True)),
                ('actions', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_by', fields.CharField(default='', max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'rule_version', 'app': 'models', 'unique_together': (('rule_id', 'version'),), 'pk_attr': 'id', 'table_description': 'One saved text of a rule: CEL condition, triggers (event types, or a schedule) and actions.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SkuFreeze',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='sku_freezes', on_delete=OnDelete.CASCADE)),
                ('channel', fields.ForeignKeyField('models.Channel', source_field='channel_id', null=True, db_constraint=True, to_field='id', related_name='sku_freezes', on_delete=OnDelete.CASCADE)),
                ('sku', fields.CharField(max_length=64)),
                ('scope', fields.CharField(max_length=16)),
                ('reason', fields.CharField(default='', max_length=500)),
                ('created_by', fields.CharField(default='', max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('lifted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lifted_by', fields.CharField(null=True, max_length=100)),
            ],
            options={'table': 'sku_freeze', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'sku'])], 'pk_attr': 'id', 'table_description': 'Intake or allocation of a SKU stopped (for one channel, or all when channel is null) until lifted.'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='Alert',
            options={'table': 'alert', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'kind']), Index(fields=['order_id']), Index(fields=['tenant_id', 'state'])], 'pk_attr': 'id', 'table_description': 'One problem, optionally about one order, raised once and updated in place while it lasts.'},
        ),
        ops.AddField(
            model_name='Alert',
            name='acknowledged_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Alert',
            name='acknowledged_by',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddField(
            model_name='Alert',
            name='channel_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Alert',
            name='due_at',
            field=fields.DatetimeField(null=True, description="When the SLA clock runs out: raised_at plus the severity's SLA.", auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Alert',
            name='owner',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddField(
            model_name='Alert',
            name='reopened',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Alert',
            name='resolution',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='Alert',
            name='resolved_by',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddField(
            model_name='Alert',
            name='snoozed_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Alert',
            name='state',
            field=fields.CharField(default='open', db_default='open', max_length=16),
        ),
        ops.AddField(
            model_name='Alert',
            name='subject',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='Alert',
            name='updated_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Alert',
            name='warehouse_id',
            field=fields.IntField(null=True),
        ),
        ops.AddIndex(
            model_name='Alert',
            index=Index(fields=['tenant_id', 'state']),
        ),
        ops.AddField(
            model_name='Order',
            name='merged_into',
            field=fields.ForeignKeyField('models.Order', source_field='merged_into_id', null=True, description='The order this one ships with (合单), null when it ships on its own or leads a merge.', db_constraint=True, to_field='id', related_name='merged_orders', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddIndex(
            model_name='Order',
            index=Index(fields=['merged_into_id']),
        ),
        ops.AddField(
            model_name='OrderLine',
            name='parcel',
            field=fields.IntField(default=1, description="Which of the order's parcels the line ships in (a manual split).", db_default=1),
        ),
        *[ops.RunSQL(sql, reverse_sql=ops.RunSQL.noop) for sql in SPLIT_KINDS],
    ]
