"""The schema as SDL, for tools and the committed ``schema.graphql``.

    ordergraph schema > schema.graphql
    strawberry export-schema schema.sdl:schema      # needs strawberry-graphql[cli]

Importing this module builds the schema once (about a second): only tools import it.
"""

from __future__ import annotations

from schema.build import build_schema

#: The schema the server runs, outside production (the SDL is the same in production).
schema = build_schema(production=False)


def sdl() -> str:
    """The SDL text, ending in a newline (as ``schema.graphql`` is committed)."""
    return schema.as_str() + "\n"
