"""Tamper-evident lineage: every ``OrderEvent`` is a leaf of its tenant's RFC 6962 Merkle log (see docs/audit.md)."""
