"""Secrets sealed at rest: channel, tracking-provider and webhook secrets, and channel configs (their platform API
accounts), become Fernet tokens (models.sealing). Rows written before keep working and are sealed by `ordergraph migrate`.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

from models.sealing import SealedJSONField, SealedTextField


class RetypeAsText(ops.AlterField):
    """The model state gets the sealed field; the column becomes TEXT on PostgreSQL (a token outgrows VARCHAR(100)
    and is not JSON). SQLite keeps any length in any column already, so nothing changes there.

    Not reversible (Tortoise refuses to migrate back past it): the columns hold sealed tokens an older
    version cannot read; restore a backup to go back."""

    reversible = False

    def __init__(self, model_name: str, name: str, field, table: str) -> None:
        super().__init__(model_name, name, field)
        self.table = table

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is not None and state_editor.client.capabilities.dialect == "postgres":
            await state_editor.client.execute_script(
                f'ALTER TABLE "{self.table}" ALTER COLUMN "{self.name}" TYPE TEXT USING "{self.name}"::text')



class Migration(migrations.Migration):
    dependencies = [('models', '0004_erp_wms_federation')]

    initial = False

    operations = [
        RetypeAsText('CarrierAccount', 'secret', SealedTextField(unique=False), 'carrier_account'),
        RetypeAsText('Channel', 'config', SealedJSONField(
            default=dict, description='Field mappings and the platform API account (credentials): sealed as a whole.'),
            'channel'),
        RetypeAsText('Channel', 'secret', SealedTextField(null=True, unique=False), 'channel'),
        RetypeAsText('WebhookSecret', 'secret', SealedTextField(unique=False), 'webhook_secret'),
    ]
