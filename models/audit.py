"""The tamper-evident lineage: per-tenant Merkle log leaves, tree right edges and signed checkpoints.

Written only by the audit outbox consumer (domain.audit.sealer) after the events commit, so the
write path pays nothing. IMMUTABILITY_SQL is the PostgreSQL trigger that makes order_event
refuse UPDATE and DELETE (migration 0010 runs it; the tests' schema set-up too)::

    await connection.execute_script(IMMUTABILITY_SQL)   # PostgreSQL only
"""

from tortoise import fields
from tortoise.models import Model


class AuditLeaf(Model):
    """One sealed event: its position in its tenant's log and the RFC 6962 leaf hash of its canonical form."""

    event_id = fields.BigIntField(primary_key=True)
    tenant_id = fields.IntField()
    index = fields.BigIntField()
    leaf_hash = fields.BinaryField()

    class Meta:
        table = "audit_leaf"
        unique_together = (("tenant_id", "index"),)


class AuditTree(Model):
    """A tenant's log as sealed so far: its size and right edge (the roots of its perfect subtrees)."""

    tenant_id = fields.IntField(primary_key=True)
    size = fields.BigIntField(default=0)
    frontier = fields.JSONField(default=list)  # base64 subtree roots, left to right
    last_event_id = fields.BigIntField(default=0)
    checkpoint_size = fields.BigIntField(default=0)
    checkpoint_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "audit_tree"


class AuditCheckpoint(Model):
    """A signed statement: tenant T's log had tree_size leaves with root root_hash at signed_at."""

    id = fields.BigIntField(primary_key=True)
    tenant_id = fields.IntField()
    tree_size = fields.BigIntField()
    root_hash = fields.BinaryField()
    last_event_id = fields.BigIntField()
    signed_at = fields.DatetimeField()
    key_id = fields.CharField(max_length=32)
    signature = fields.BinaryField()

    class Meta:
        table = "audit_checkpoint"
        unique_together = (("tenant_id", "tree_size"),)


#: PostgreSQL: order_event refuses UPDATE and DELETE. The one exception is the audited purge
#: (domain.audit.purge), which sets ordergraph.audit_purge for its transaction and may only
#: replace the payload fields by a tombstone. TRUNCATE (a DBA's tool, used by the test reset) is untouched.
IMMUTABILITY_SQL = """
CREATE OR REPLACE FUNCTION ordergraph_order_event_immutable() RETURNS trigger AS $$
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
    FOR EACH ROW EXECUTE FUNCTION ordergraph_order_event_immutable();
"""
