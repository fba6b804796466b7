"""After-sales (refunds, returns, exchanges with their lines, photos and per-channel policy, and the pending push of
a decision to the channel), payments as first-class (kind, normalised and gateway references, refunds tied to their
after-sale, flags, confirmation; the gateways' notices and the tenants' gateway accounts), reconciliation runs and
their differences, and a tenant's contact link and time zone. Existing payments get their normalised references from
``ordergraph migrate``'s post-steps (domain.payments.backfill), which run after the migrations."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.sealing import SealedJSONField
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_rules_alert_board_notifications')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AfterSale',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='after_sales', on_delete=OnDelete.CASCADE)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='after_sales', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(max_length=16)),
                ('status', fields.CharField(max_length=24)),
                ('source', fields.CharField(max_length=16)),
                ('external_id', fields.CharField(null=True, max_length=64)),
                ('reason', fields.CharField(default='', max_length=500)),
                ('requested_amount', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('approved_amount', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('refunded_amount', fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ('currency', fields.CharField(default='CNY', max_length=3)),
                ('decided_by', fields.CharField(null=True, max_length=100)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decision_note', fields.CharField(default='', max_length=500)),
                ('respond_by', fields.DatetimeField(null=True, description="The channel's or the policy's deadline for the decision.", auto_now=False, auto_now_add=False)),
                ('return_by', fields.DatetimeField(null=True, description='The buyer must send the goods back by then.', auto_now=False, auto_now_add=False)),
                ('warehouse', fields.ForeignKeyField('models.Warehouse', source_field='warehouse_id', null=True, db_constraint=True, to_field='id', related_name='after_sales', on_delete=OnDelete.SET_NULL)),
                ('return_carrier', fields.CharField(default='', max_length=32)),
                ('return_tracking_no', fields.CharField(default='', max_length=64)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('channel_status', fields.CharField(default='', description="The channel's own last status code for it, verbatim.", db_default='', max_length=32)),
                ('push_action', fields.CharField(default='', description='A decision owed to the channel: approve or reject (empty: none).', db_default='', max_length=16)),
                ('push_state', fields.CharField(default='', description='pending, done or failed, empty when nothing is owed to the channel.', db_default='', max_length=16)),
                ('push_attempts', fields.IntField(default=0, db_default=0)),
                ('push_due_at', fields.DatetimeField(null=True, description='When the pending push is tried (next).', auto_now=False, auto_now_add=False)),
                ('push_error', fields.CharField(default='', db_default='', max_length=300)),
            ],
            options={'table': 'after_sale', 'app': 'models', 'unique_together': (('tenant_id', 'order_id', 'external_id'),), 'indexes': [Index(fields=['tenant_id', 'status']), Index(fields=['order_id']), Index(fields=['push_state', 'push_due_at'])], 'pk_attr': 'id', 'table_description': 'One after-sale request about one order: refund only, return and refund, or exchange.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AfterSaleLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('after_sale', fields.ForeignKeyField('models.AfterSale', source_field='after_sale_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('order_line', fields.ForeignKeyField('models.OrderLine', source_field='order_line_id', db_constraint=True, to_field='id', related_name='after_sale_lines', on_delete=OnDelete.RESTRICT)),
                ('quantity', fields.IntField()),
                ('amount', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('received', fields.IntField(default=0)),
                ('restocked', fields.IntField(default=0)),
                ('written_off', fields.IntField(default=0)),
                ('replacement_sku', fields.CharField(null=True, max_length=64)),
                ('replacement_line', fields.ForeignKeyField('models.OrderLine', source_field='replacement_line_id', null=True, db_constraint=True, to_field='id', related_name='replacing', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'after_sale_line', 'app': 'models', 'pk_attr': 'id', 'table_description': 'How many units of one order line the after-sale is about, and what became of those that came back.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AfterSalePhoto',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('after_sale', fields.ForeignKeyField('models.AfterSale', source_field='after_sale_id', db_constraint=True, to_field='id', related_name='photos', on_delete=OnDelete.CASCADE)),
                ('content_type', fields.CharField(max_length=32)),
                ('size', fields.IntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('data', fields.BinaryField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'after_sale_photo', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A photo the customer added to a return request (bytes kept here, size-limited).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AfterSalePolicy',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='after_sale_policies', on_delete=OnDelete.CASCADE)),
                ('channel', fields.ForeignKeyField('models.Channel', source_field='channel_id', null=True, db_constraint=True, to_field='id', related_name='after_sale_policies', on_delete=OnDelete.CASCADE)),
                ('config', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'after_sale_policy', 'app': 'models', 'unique_together': (('tenant_id', 'channel_id'),), 'pk_attr': 'id', 'table_description': "A tenant's after-sale rules (for one channel, or all when channel is null), as data."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PaymentGatewayAccount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='payment_gateway_accounts', on_delete=OnDelete.CASCADE)),
                ('gateway', fields.CharField(max_length=32)),
                ('config', SealedJSONField(default=dict)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'payment_gateway_account', 'app': 'models', 'unique_together': (('tenant', 'gateway'),), 'pk_attr': 'id', 'table_description': "A tenant's account with a payment gateway: the keys its notices are verified and decrypted with."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PaymentNotice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='payment_notices', on_delete=OnDelete.CASCADE)),
                ('gateway', fields.CharField(max_length=32)),
                ('notice_id', fields.CharField(max_length=64)),
                ('reference', fields.CharField(default='', max_length=64)),
                ('normalized_reference', fields.CharField(default='', max_length=64)),
                ('transaction_id', fields.CharField(default='', max_length=64)),
                ('amount', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('currency', fields.CharField(default='CNY', max_length=3)),
                ('status', fields.CharField(default='', max_length=24)),
                ('outcome', fields.CharField(max_length=16)),
                ('reason', fields.CharField(default='', max_length=500)),
                ('candidates', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('payment', fields.ForeignKeyField('models.Payment', source_field='payment_id', null=True, db_constraint=True, to_field='id', related_name='notices', on_delete=OnDelete.SET_NULL)),
                ('payload_ref', fields.CharField(null=True, max_length=80)),
                ('resolved_by', fields.CharField(null=True, max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'payment_notice', 'app': 'models', 'unique_together': (('tenant_id', 'gateway', 'notice_id'),), 'indexes': [Index(fields=['tenant_id', 'outcome'])], 'pk_attr': 'id', 'table_description': "A payment gateway's notification, kept whatever became of it."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReconciliationRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='reconciliations', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('status', fields.CharField(default='running', max_length=16)),
                ('threshold', fields.DecimalField(max_digits=6, decimal_places=4)),
                ('orders_checked', fields.IntField(default=0)),
                ('orders_differing', fields.IntField(default=0)),
                ('totals', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('error', fields.CharField(default='', max_length=500)),
                ('started_by', fields.CharField(default='', max_length=100)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reconciliation_run', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'day'])], 'pk_attr': 'id', 'table_description': "One comparison of a day (in the tenant's time zone), with its threshold and totals."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReconciliationDiff',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('run', fields.ForeignKeyField('models.ReconciliationRun', source_field='run_id', db_constraint=True, to_field='id', related_name='diffs', on_delete=OnDelete.CASCADE)),
                ('order_id', fields.IntField(null=True)),
                ('reference', fields.CharField(default='', max_length=64)),
                ('dimension', fields.CharField(max_length=16)),
                ('channel_value', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('erp_value', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('wms_value', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('gateway_value', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('difference', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('note', fields.CharField(default='', max_length=300)),
            ],
            options={'table': 'reconciliation_diff', 'app': 'models', 'indexes': [Index(fields=['run_id', 'order_id'])], 'pk_attr': 'id', 'table_description': 'One order whose figures disagree between sources in one dimension (quantity or amount).'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='Payment',
            options={'table': 'payment', 'app': 'models', 'indexes': [Index(fields=['order_id']), Index(fields=['normalized_reference'])], 'pk_attr': 'id', 'table_description': 'A payment as its source reported it: reference kept verbatim, normalized_reference for matching.'},
        ),
        ops.AddField(
            model_name='Payment',
            name='after_sale',
            field=fields.ForeignKeyField('models.AfterSale', source_field='after_sale_id', null=True, db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Payment',
            name='confirmed_at',
            field=fields.DatetimeField(null=True, description="When the gateway's own notice confirmed it.", auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Payment',
            name='flags',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Payment',
            name='gateway_reference',
            field=fields.CharField(default='', description="The gateway's own transaction id, once a notice named it.", db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='Payment',
            name='kind',
            field=fields.CharField(default='payment', db_default='payment', max_length=16),
        ),
        ops.AddField(
            model_name='Payment',
            name='normalized_reference',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddIndex(
            model_name='Payment',
            index=Index(fields=['normalized_reference']),
        ),
        ops.AddField(
            model_name='Tenant',
            name='contact_url',
            field=fields.CharField(default='', description='Where a customer contacts the shop (the tracking page links it).', db_default='', max_length=500),
        ),
        ops.AddField(
            model_name='Tenant',
            name='time_zone',
            field=fields.CharField(default='Asia/Shanghai', db_default='Asia/Shanghai', max_length=48),
        ),
    ]
