"""The committed ``schema.graphql`` is the schema the code builds, and ``ordergraph schema`` prints it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from schema.sdl import sdl

COMMITTED = Path(__file__).parents[1] / "schema.graphql"


def test_committed_schema_graphql_matches_the_code():
    assert COMMITTED.is_file(), "schema.graphql is missing: run `ordergraph schema > schema.graphql`"
    assert COMMITTED.read_text(encoding="utf-8") == sdl(), (
        "schema.graphql differs from the schema the code builds: run `ordergraph schema > schema.graphql` and commit it")


def test_ordergraph_schema_prints_the_sdl():
    printed = subprocess.run([sys.executable, "-m", "api.cli", "schema"], capture_output=True, text=True, check=True)
    assert printed.stdout == sdl() and "type Query {" in printed.stdout
