"""The GraphQL schema: Strawberry types, inputs, enums, errors, and ``build_schema``."""

from schema.build import build_schema

__all__ = ["build_schema"]
