"""Tamper-evident lineage: every event becomes a leaf of its tenant's RFC 6962 Merkle log (leaves, the tree's right
edge, signed checkpoints), lineage rows no longer disappear with their order (RESTRICT instead of CASCADE), and on
PostgreSQL the order_event table refuses UPDATE and DELETE (a trigger; the audited retention purge is the one
exception it lets through). Lineage export jobs get their table."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


#: Copied from models.audit.IMMUTABILITY_SQL as it was when this migration was written (a migration never changes).
IMMUTABILITY_SQL = """CREATE OR REPLACE FUNCTION ordergraph_order_event_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('ordergraph.audit_purge', true) = 'on'
       AND NEW.id = OLD.id AND NEW.tenant_id = OLD.tenant_id AND NEW.type = OLD.type
       AND NEW.created_at = OLD.created_at AND NEW.order_id IS NOT DISTINCT FROM OLD.order_id
       AND NEW.actor = 'purged' AND NEW.after ? 'tombstone' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'order_event is append-only: % refused (lineage is tamper-evident, see docs/audit.md)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS order_event_immutable ON order_event;
CREATE TRIGGER order_event_immutable BEFORE UPDATE OR DELETE ON order_event
    FOR EACH ROW EXECUTE FUNCTION ordergraph_order_event_immutable();"""


class AppendOnlyLineage(ops.RunSQL):
    """PostgreSQL only: SQLite is the single-process embedded default and has no such trigger language."""

    def __init__(self) -> None:
        super().__init__(IMMUTABILITY_SQL, reverse_sql=ops.RunSQL.noop)

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is not None and state_editor.client.capabilities.dialect == "postgres":
            await state_editor.client.execute_script(IMMUTABILITY_SQL)


class Migration(migrations.Migration):
    dependencies = [('models', '0009_after_sales_payments_reconciliation')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditCheckpoint',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant_id', fields.IntField()),
                ('tree_size', fields.BigIntField()),
                ('root_hash', fields.BinaryField()),
                ('last_event_id', fields.BigIntField()),
                ('signed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('key_id', fields.CharField(max_length=32)),
                ('signature', fields.BinaryField()),
            ],
            options={'table': 'audit_checkpoint', 'app': 'models', 'unique_together': (('tenant_id', 'tree_size'),), 'pk_attr': 'id', 'table_description': "A signed statement: tenant T's log had tree_size leaves with root root_hash at signed_at."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditLeaf',
            fields=[
                ('event_id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant_id', fields.IntField()),
                ('index', fields.BigIntField()),
                ('leaf_hash', fields.BinaryField()),
            ],
            options={'table': 'audit_leaf', 'app': 'models', 'unique_together': (('tenant_id', 'index'),), 'pk_attr': 'event_id', 'table_description': "One sealed event: its position in its tenant's log and the RFC 6962 leaf hash of its canonical form."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditTree',
            fields=[
                ('tenant_id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('size', fields.BigIntField(default=0)),
                ('frontier', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('last_event_id', fields.BigIntField(default=0)),
                ('checkpoint_size', fields.BigIntField(default=0)),
                ('checkpoint_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'audit_tree', 'app': 'models', 'pk_attr': 'tenant_id', 'table_description': "A tenant's log as sealed so far: its size and right edge (the roots of its perfect subtrees)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ExportJob',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='export_jobs', on_delete=OnDelete.CASCADE)),
                ('requested_by', fields.CharField(max_length=100)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(default='running', max_length=16)),
                ('progress', fields.IntField(default=0)),
                ('total', fields.IntField(default=0)),
                ('path', fields.CharField(default='', max_length=300)),
                ('manifest', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('error', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'export_job', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One startLineageExport, run in-process: a job a restart interrupted is marked failed on start.'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='OrderEvent',
            name='order',
            field=fields.ForeignKeyField('models.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.RESTRICT),
        ),
        AppendOnlyLineage(),
    ]
