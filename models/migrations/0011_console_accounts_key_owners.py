from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_tamper_evident_lineage')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ConsoleUser',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='console_users', on_delete=OnDelete.CASCADE)),
                ('email', fields.CharField(unique=True, description='Lower case, the sign-in name.', max_length=254)),
                ('display_name', fields.CharField(max_length=100)),
                ('role', fields.CharField(description='A domain.actor.Role value.', max_length=16)),
                ('password_hash', fields.CharField(description='argon2id, never the password.', max_length=255)),
                ('failed_attempts', fields.IntField(default=0)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('disabled', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_sign_in_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'console_user', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A person of one tenant who signs in to the console with an email and a password.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConsoleSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.ConsoleUser', source_field='user_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('csrf_token', fields.CharField(description='Bound to this session, sent back with every form.', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'console_session', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A signed-in browser: the cookie holds a random token, the table only its SHA-256.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ApiKey',
            name='owner',
            field=fields.CharField(null=True, description='The person or system behind the key, e.g. Li Wei <li.wei@acme.cn>. Lineage names it. Empty for keys made before owners were recorded.', max_length=120),
        ),
        ops.AddField(
            model_name='WebhookEndpoint',
            name='owner_key',
            field=fields.ForeignKeyField('models.ApiKey', source_field='owner_key_id', null=True, description='The API key that registered the endpoint. A partner key sees and manages only its own.', db_constraint=True, to_field='id', related_name='webhook_endpoints', on_delete=OnDelete.SET_NULL),
        ),
    ]
