"""Merchant set-up without the seed (warehouse address, region, cost; catalogue items; SKU aliases) and channel orders kept whole
(amount parts, paid time, full address, masked and sealed contacts, per-line ids, shipment source, inferred scan times)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_foreign_key_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SealedContact',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.OneToOneField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='sealed_contact', on_delete=OnDelete.CASCADE)),
                ('platform', fields.CharField(max_length=32)),
                ('name_cipher', fields.TextField(default='', unique=False)),
                ('phone_cipher', fields.TextField(default='', unique=False)),
                ('address_cipher', fields.TextField(default='', unique=False)),
                ('open_id', fields.CharField(default='', description="The platform's key for decrypting, where it has one (Taobao OAID).", max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'sealed_contact', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Receiver contact a platform sent encrypted: ciphertext kept apart from the order, never shown.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SkuAlias',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='sku_aliases', on_delete=OnDelete.CASCADE)),
                ('channel', fields.ForeignKeyField('models.Channel', source_field='channel_id', db_constraint=True, to_field='id', related_name='sku_aliases', on_delete=OnDelete.CASCADE)),
                ('alias', fields.CharField(max_length=64)),
                ('sku', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'sku_alias', 'app': 'models', 'unique_together': (('channel', 'alias'),), 'pk_attr': 'id', 'table_description': "A channel's name for one of the tenant's SKUs (``TB-TEA-250`` on the Tmall shop is ``TEA-250``)."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ChannelOrderState',
            name='content_digest',
            field=fields.CharField(default='', description='Fingerprint of the whole normalised order, so a changed payload with the same source time is not a duplicate.', max_length=64),
        ),
        ops.AddField(
            model_name='Order',
            name='contact_masked',
            field=fields.JSONField(default=dict, description='The platform\'s own masked forms of the receiver (``{"name": "张*", "phone": "138****5678", "address": …}``),', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Order',
            name='discount_total',
            field=fields.DecimalField(null=True, max_digits=14, decimal_places=2),
        ),
        ops.AddField(
            model_name='Order',
            name='goods_total',
            field=fields.DecimalField(null=True, description='The parts of the amount as the channel states them (null: the channel did not say).', max_digits=14, decimal_places=2),
        ),
        ops.AddField(
            model_name='Order',
            name='paid_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Order',
            name='ship_company',
            field=fields.CharField(default='', max_length=100),
        ),
        ops.AddField(
            model_name='Order',
            name='ship_country_code',
            field=fields.CharField(default='', max_length=2),
        ),
        ops.AddField(
            model_name='Order',
            name='ship_postal_code',
            field=fields.CharField(default='', max_length=20),
        ),
        ops.AddField(
            model_name='Order',
            name='shipping_fee',
            field=fields.DecimalField(null=True, max_digits=14, decimal_places=2),
        ),
        ops.AddField(
            model_name='Order',
            name='tax_total',
            field=fields.DecimalField(null=True, max_digits=14, decimal_places=2),
        ),
        ops.AddField(
            model_name='OrderLine',
            name='channel_sku',
            field=fields.CharField(default='', description='The SKU as the channel wrote it, when a per-channel alias mapped it onto ``sku``.', max_length=64),
        ),
        ops.AddField(
            model_name='OrderLine',
            name='external_line_id',
            field=fields.CharField(default='', description="The channel's id of this line (Taobao ``oid``, Shopify line item id), for per-line refunds and returns.", max_length=64),
        ),
        ops.AddField(
            model_name='Shipment',
            name='source',
            field=fields.CharField(default='ops', description="Who told us about the parcel: ``ops`` (shipOrder), ``channel`` (the platform's waybill), ``wms``.", max_length=16),
        ),
        ops.AddField(
            model_name='Sku',
            name='active',
            field=fields.BooleanField(default=True),
        ),
        ops.AddField(
            model_name='Sku',
            name='barcode',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='Sku',
            name='created_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=True),
        ),
        ops.AddField(
            model_name='Sku',
            name='safety_stock',
            field=fields.IntField(default=0, description='Safety stock a new (warehouse, SKU) row starts with.'),
        ),
        ops.AddField(
            model_name='Sku',
            name='updated_at',
            field=fields.DatetimeField(null=True, auto_now=True, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Sku',
            name='weight_grams',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='TrackingEvent',
            name='time_inferred',
            field=fields.BooleanField(default=False, description='The carrier gave a local time without offset, and the offset was inferred from where the scan happened.'),
        ),
        ops.AlterModelOptions(
            name='Warehouse',
            options={'table': 'warehouse', 'app': 'models', 'unique_together': (('tenant', 'code'),), 'pk_attr': 'id', 'table_description': 'A place stock sits in and parcels leave from. A paused one (``active`` false) keeps its stock but is not allocated to.'},
        ),
        ops.AddField(
            model_name='Warehouse',
            name='address',
            field=fields.CharField(default='', max_length=300),
        ),
        ops.AddField(
            model_name='Warehouse',
            name='country_code',
            field=fields.CharField(default='CN', max_length=2),
        ),
        ops.AddField(
            model_name='Warehouse',
            name='created_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=True),
        ),
        ops.AddField(
            model_name='Warehouse',
            name='district',
            field=fields.CharField(default='', max_length=50),
        ),
        ops.AddField(
            model_name='Warehouse',
            name='handling_cost',
            field=fields.DecimalField(null=True, description='Handling cost per order, used by the lowest-cost strategy when the policy names none for this warehouse.', max_digits=10, decimal_places=2),
        ),
        ops.AddField(
            model_name='Warehouse',
            name='postal_code',
            field=fields.CharField(default='', max_length=20),
        ),
        ops.AddField(
            model_name='Warehouse',
            name='region',
            field=fields.CharField(default='', description='A name allocation policies and reports group warehouses by (``east``, ``north``).', max_length=32),
        ),
        ops.AddField(
            model_name='Warehouse',
            name='updated_at',
            field=fields.DatetimeField(null=True, auto_now=True, auto_now_add=False),
        ),
    ]
