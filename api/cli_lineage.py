"""``ordergraph lineage …``: the audit commands (verify, export, pack).

    ordergraph lineage verify [--tenant acme] [--from ID]     (api.cli_lineage_verify)
    ordergraph lineage export --tenant acme --order OG000000042 --format jsonl -o order.jsonl
    ordergraph lineage pack --tenant acme --order OG000000042 -o OG000000042.zip
"""

from __future__ import annotations

import argparse

from api import cli_lineage_export, cli_lineage_verify


def register(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """Add the ``lineage`` group to the ``ordergraph`` command; returns its sub-commands."""
    lineage = sub.add_parser("lineage", help="audit the lineage: verify, seal, export, evidence packs, purge").add_subparsers(
        dest="lineage_action", required=True)
    cli_lineage_export.add_commands(lineage)
    cli_lineage_verify.add_commands(lineage)
    return lineage
