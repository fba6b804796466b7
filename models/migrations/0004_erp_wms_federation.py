"""ERP and WMS federation: connections, which WMS runs a warehouse (and its stock-drift breaker), delivery orders
pushed exactly once, and every exchange with those systems kept as evidence."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

from models.sealing import SealedJSONField
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_merchant_setup_and_channel_detail')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SystemConnection',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='system_connections', on_delete=OnDelete.CASCADE)),
                ('code', fields.CharField(max_length=32)),
                ('kind', fields.CharField(max_length=8)),
                ('adapter', fields.CharField(max_length=24)),
                ('name', fields.CharField(default='', max_length=200)),
                ('config', SealedJSONField()),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'system_connection', 'app': 'models', 'unique_together': (('tenant', 'code'),), 'pk_attr': 'id', 'table_description': 'One ERP or WMS the tenant runs, and how to reach it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DeliveryOrder',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='delivery_orders', on_delete=OnDelete.CASCADE)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='delivery_orders', on_delete=OnDelete.CASCADE)),
                ('warehouse', fields.ForeignKeyField('models.Warehouse', source_field='warehouse_id', db_constraint=True, to_field='id', related_name='delivery_orders', on_delete=OnDelete.CASCADE)),
                ('connection', fields.ForeignKeyField('models.SystemConnection', source_field='connection_id', db_constraint=True, to_field='id', related_name='delivery_orders', on_delete=OnDelete.CASCADE)),
                ('code', fields.CharField(max_length=64)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('wms_order_id', fields.CharField(default='', max_length=64)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('event_id', fields.BigIntField(null=True)),
                ('pushed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'delivery_order', 'app': 'models', 'unique_together': (('tenant', 'code'),), 'indexes': [Index(fields=['status', 'next_attempt_at']), Index(fields=['order_id'])], 'pk_attr': 'id', 'table_description': "An order's lines of one warehouse as a WMS delivery order: pushed once, by its code, and followed to the end."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SystemExchange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='system_exchanges', on_delete=OnDelete.CASCADE)),
                ('connection', fields.ForeignKeyField('models.SystemConnection', source_field='connection_id', null=True, db_constraint=True, to_field='id', related_name='exchanges', on_delete=OnDelete.SET_NULL)),
                ('system', fields.CharField(max_length=8)),
                ('operation', fields.CharField(max_length=48)),
                ('direction', fields.CharField(default='out', max_length=8)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name='system_exchanges', on_delete=OnDelete.SET_NULL)),
                ('method', fields.CharField(default='POST', max_length=8)),
                ('url', fields.CharField(default='', max_length=500)),
                ('request_body', fields.TextField(default='', unique=False)),
                ('status_code', fields.IntField(null=True)),
                ('response_body', fields.TextField(default='', unique=False)),
                ('outcome', fields.CharField(max_length=16)),
                ('error', fields.CharField(default='', max_length=500)),
                ('elapsed_ms', fields.FloatField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'system_exchange', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'created_at']), Index(fields=['order_id']), Index(fields=['connection_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One request to (or callback from) an ERP or WMS and its answer, redacted: the evidence lineage links to.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WarehouseSystems',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('warehouse', fields.OneToOneField('models.Warehouse', source_field='warehouse_id', db_constraint=True, to_field='id', related_name='systems', on_delete=OnDelete.CASCADE)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='warehouse_systems', on_delete=OnDelete.CASCADE)),
                ('wms', fields.ForeignKeyField('models.SystemConnection', source_field='wms_id', null=True, db_constraint=True, to_field='id', related_name='warehouses', on_delete=OnDelete.SET_NULL)),
                ('wms_warehouse_code', fields.CharField(default='', max_length=64)),
                ('erp_warehouse_code', fields.CharField(default='', max_length=64)),
                ('owner_code', fields.CharField(default='', max_length=64)),
                ('breaker_open', fields.BooleanField(default=False)),
                ('breaker_reason', fields.CharField(default='', max_length=500)),
                ('breaker_details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('breaker_opened_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('drift_below_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'warehouse_systems', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Which WMS runs a warehouse and the codes the WMS and the ERP know it by, and the stock-drift breaker.'},
            bases=['Model'],
        ),
    ]
