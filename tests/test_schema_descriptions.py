"""Every type, field, argument, input field and enum value of the GraphQL schema is described.

A frontend developer reads the schema in GraphiQL or the committed ``schema.graphql``; an undescribed
name leaves them guessing units, time zones, nullability and who may see it. On failure the message
lists every missing description by its schema coordinate (``Type.field(arg:)``), as a to-do list.
"""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    specified_scalar_types,
)
from graphql.type.introspection import introspection_types

from schema.sdl import schema


def missing_descriptions(graphql_schema: GraphQLSchema) -> list[str]:
    """Schema coordinates of everything ours that has no (or a blank) description."""
    def blank(text: str | None) -> bool:
        return not (text and text.strip())

    missing: list[str] = []
    for name, named in sorted(graphql_schema.type_map.items()):
        if name in introspection_types or name in specified_scalar_types:
            continue
        assert isinstance(named, GraphQLNamedType)
        if blank(named.description):
            missing.append(name)
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, field in named.fields.items():
                if blank(field.description):
                    missing.append(f"{name}.{field_name}")
                missing.extend(f"{name}.{field_name}({arg_name}:)" for arg_name, arg in field.args.items()
                               if blank(arg.description))
        elif isinstance(named, GraphQLInputObjectType):
            missing.extend(f"{name}.{field_name}" for field_name, field in named.fields.items()
                           if blank(field.description))
        elif isinstance(named, GraphQLEnumType):
            missing.extend(f"{name}.{value_name}" for value_name, value in named.values.items()
                           if blank(value.description))
        else:
            assert isinstance(named, (GraphQLUnionType, GraphQLScalarType)), f"unexpected kind of type: {name}"
    return missing


def test_every_type_field_argument_and_enum_value_is_described():
    missing = missing_descriptions(schema._schema)
    assert not missing, f"{len(missing)} schema elements have no description:\n  " + "\n  ".join(missing)


def test_the_check_finds_an_undescribed_field():
    import strawberry

    @strawberry.type(description="A root.")
    class Query:
        described: int = strawberry.field(description="Has one.", default=1)
        bare: int = 2

    assert missing_descriptions(strawberry.Schema(query=Query)._schema) == ["Query.bare"]
