from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0011_console_accounts_key_owners')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PersistedQuery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', null=True, description="Null: a global document (the console's, or one registered from the CLI for everybody).", db_constraint=True, to_field='id', related_name='persisted_queries', on_delete=OnDelete.CASCADE)),
                ('sha256', fields.CharField(description='Lower-case hex SHA-256 of the UTF-8 document text.', max_length=64)),
                ('document', fields.TextField(description='The GraphQL document, exactly as registered.', unique=False)),
                ('operation_name', fields.CharField(default='', description='The operation it runs, for lists.', max_length=200)),
                ('registered_by', fields.CharField(description='Who registered it (the actor name).', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('enabled', fields.BooleanField(default=True, description='Disabled documents are not found any more.')),
            ],
            options={'table': 'persisted_query', 'app': 'models', 'unique_together': (('tenant', 'sha256'),), 'indexes': [Index(fields=['sha256'])], 'pk_attr': 'id', 'table_description': 'A GraphQL document registered by its hash, for one tenant or (tenant null) for every tenant.'},
            bases=['Model'],
        ),
    ]
